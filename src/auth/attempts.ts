/**
 * Sign-in attempts per client and account: at most `limit` failures a window, after which
 * further attempts are refused until the window passes — guessing passwords gets slow.
 */
export class SignInAttempts {
  readonly #failures = new Map<string, { count: number; since: number }>();
  constructor(
    private readonly limit = 5,
    private readonly windowMs = 60_000,
  ) {}

  /** Seconds to wait before trying again, or 0 when an attempt may be made now. */
  wait(key: string, now: number): number {
    const entry = this.#failures.get(key);
    if (!entry || now - entry.since >= this.windowMs) return 0;
    return entry.count >= this.limit ? Math.ceil((entry.since + this.windowMs - now) / 1000) : 0;
  }

  failed(key: string, now: number): void {
    const entry = this.#failures.get(key);
    if (!entry || now - entry.since >= this.windowMs) {
      // Re-inserted, so the map stays in order of window start and the oldest go first below.
      this.#failures.delete(key);
      this.#failures.set(key, { count: 1, since: now });
    } else entry.count++;
    if (this.#failures.size > MAX_TRACKED) this.#forget(now);
  }

  succeeded(key: string): void {
    this.#failures.delete(key);
  }

  /**
   * Bounds memory without wiping everyone's count at once (which a flood of made-up emails
   * could otherwise trigger to reset its own): windows that have passed go, then the oldest.
   */
  #forget(now: number): void {
    for (const [key, entry] of this.#failures) {
      if (this.#failures.size <= MAX_TRACKED * 0.9) return;
      if (now - entry.since >= this.windowMs) this.#failures.delete(key);
    }
    for (const key of this.#failures.keys()) {
      if (this.#failures.size <= MAX_TRACKED * 0.9) return;
      this.#failures.delete(key);
    }
  }
}

const MAX_TRACKED = 100_000;

/**
 * Sign-in throttling by the real client address (see TOLLGATE_TRUSTED_PROXIES): a few failures
 * for one account from one address, and more across all accounts from one address. There is
 * deliberately no lock on an account as such: failing sign-ins for someone else's email from
 * your own address must not lock them out.
 */
export class SignInThrottle {
  readonly #perAccount: SignInAttempts;
  readonly #perAddress: SignInAttempts;
  constructor(limits: { perAccount?: number; perAddress?: number; windowMs?: number } = {}) {
    const windowMs = limits.windowMs ?? 60_000;
    this.#perAccount = new SignInAttempts(limits.perAccount ?? 5, windowMs);
    this.#perAddress = new SignInAttempts(limits.perAddress ?? 30, windowMs);
  }

  /** Seconds to wait before this address may try this account again; 0 when it may now. */
  wait(address: string, account: string, now: number): number {
    return Math.max(this.#perAddress.wait(address, now), this.#perAccount.wait(`${address}|${account}`, now));
  }

  failed(address: string, account: string, now: number): void {
    this.#perAddress.failed(address, now);
    this.#perAccount.failed(`${address}|${account}`, now);
  }

  /** Clears the account's count from this address; the address's own count stays, so one good
   * account of an attacker's does not buy more guesses at others. */
  succeeded(address: string, account: string): void {
    this.#perAccount.succeeded(`${address}|${account}`);
  }
}
