import { isIPv6 } from 'node:net';

/** Client addresses tracked at most; past it the one tracked longest is dropped. */
const DEFAULT_MAX_CLIENTS = 100_000;

interface Window {
  count: number;
  endsAt: number;
}

/**
 * The address a failure is counted against: an IPv4 address as it is, an IPv6 address by its
 * /64, since one host is commonly given a whole /64 and could otherwise rotate through it.
 */
export function clientBucket(address: string | undefined): string {
  // A socket already gone has no remote address; such requests share one bucket.
  if (!address) return 'unknown';
  if (address.startsWith('::ffff:') && address.includes('.')) return address.slice(7);
  if (!isIPv6(address)) return address;
  const [head = '', tail = ''] = address.split('::');
  const left = head ? head.split(':') : [];
  const right = address.includes('::') && tail ? tail.split(':') : [];
  const groups = address.includes('::')
    ? [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right]
    : left;
  return `${groups
    .slice(0, 4)
    .map((group) => Number.parseInt(group, 16).toString(16))
    .join(':')}::/64`;
}

/**
 * Counts requests whose API key matched no key, per client address, in fixed windows. Once an
 * address reaches the limit, keys it presents that are not already in memory are refused
 * before any database work until its window ends; other addresses are not affected.
 */
export class AuthFailures {
  readonly #byClient = new Map<string, Window>();
  readonly #limit: number;
  readonly #windowMs: number;
  readonly #maxClients: number;

  /** A limit of 0 turns the check off. */
  constructor(limit: number, windowMs: number, maxClients = DEFAULT_MAX_CLIENTS) {
    this.#limit = limit;
    this.#windowMs = windowMs;
    this.#maxClients = maxClients;
  }

  /** Whole seconds this address must wait before a key of its is looked up again; 0 if none. */
  retryAfter(address: string, now: number): number {
    if (this.#limit === 0) return 0;
    const window = this.#byClient.get(clientBucket(address));
    if (!window || window.endsAt <= now || window.count < this.#limit) return 0;
    return Math.max(1, Math.ceil((window.endsAt - now) / 1000));
  }

  record(address: string, now: number): void {
    if (this.#limit === 0) return;
    const bucket = clientBucket(address);
    let window = this.#byClient.get(bucket);
    if (!window || window.endsAt <= now) {
      this.#byClient.delete(bucket);
      if (this.#byClient.size >= this.#maxClients) {
        const oldest = this.#byClient.keys().next().value;
        if (oldest !== undefined) this.#byClient.delete(oldest);
      }
      window = { count: 0, endsAt: now + this.#windowMs };
      this.#byClient.set(bucket, window);
    }
    window.count++;
  }
}
