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
    if (!entry || now - entry.since >= this.windowMs) this.#failures.set(key, { count: 1, since: now });
    else entry.count++;
    if (this.#failures.size > 100_000) this.#failures.clear();
  }

  succeeded(key: string): void {
    this.#failures.delete(key);
  }
}
