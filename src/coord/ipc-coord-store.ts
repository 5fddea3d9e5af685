import type { CoordStore } from './redis-link.ts';

/** Redis's PEXPIRE times the scripts set, kept here for the same keys (ms). */
const SPEND_TTL_MS = 604_800_000;
const LEASE_KEYS_TTL_MS = 86_400_000;
const RATE_TTL_MS = 180_000;
/** Expired keys are dropped on access and by a sweep this often, as Redis does (ms). */
const SWEEP_MS = 60_000;

interface Entry {
  /** A hash (field → number), a sorted set (member → score), or a counter. */
  value: Map<string, number> | number;
  /** Date.now() ms when the key disappears; Infinity without an expiry. */
  expiresAt: number;
}

/**
 * The coordination operations of scripts.ts over this process's memory, for the workers of one
 * `tollgate serve --workers N` without Redis: the primary process keeps the counters and its
 * workers reach them by IPC (ipc-link.ts). Each method mirrors its Lua script line by line, on
 * the same keys, with the same invariant (spent + Σ leases ≤ limit); it runs atomically because
 * it never awaits, so the primary's event loop runs one at a time, as Redis runs one script at a
 * time. Date.now() stands for Redis's TIME (one process, one clock).
 */
export class MemoryCoordStore implements CoordStore {
  readonly #keys = new Map<string, Entry>();
  readonly #sweeper: NodeJS.Timeout;

  constructor(private readonly clock: () => number = Date.now) {
    this.#sweeper = setInterval(() => this.#sweep(), SWEEP_MS);
    this.#sweeper.unref();
  }

  /** Keys held (a metric for tests: expired ones are gone). */
  get size(): number {
    this.#sweep();
    return this.#keys.size;
  }

  close(): void {
    clearInterval(this.#sweeper);
  }

  #sweep(): void {
    const now = this.clock();
    for (const [key, entry] of this.#keys) if (entry.expiresAt <= now) this.#keys.delete(key);
  }

  #entry(key: string): Entry | undefined {
    const entry = this.#keys.get(key);
    if (entry && entry.expiresAt <= this.clock()) {
      this.#keys.delete(key);
      return undefined;
    }
    return entry;
  }

  /** A hash or sorted set; created empty (not stored until a field is set) when missing. */
  #map(key: string): Map<string, number> {
    const value = this.#entry(key)?.value;
    return value instanceof Map ? value : new Map();
  }

  /** Stores a hash or sorted set back; an empty one is deleted, as in Redis. */
  #putMap(key: string, map: Map<string, number>): void {
    if (map.size === 0) {
      this.#keys.delete(key);
      return;
    }
    const entry = this.#entry(key);
    if (entry) entry.value = map;
    else this.#keys.set(key, { value: map, expiresAt: Number.POSITIVE_INFINITY });
  }

  #counter(key: string): number {
    const value = this.#entry(key)?.value;
    return typeof value === 'number' ? value : 0;
  }

  /** INCRBY: keeps the key's expiry, creates it without one. */
  #incr(key: string, by: number): number {
    const entry = this.#entry(key);
    const next = (typeof entry?.value === 'number' ? entry.value : 0) + by;
    if (entry) entry.value = next;
    else this.#keys.set(key, { value: next, expiresAt: Number.POSITIVE_INFINITY });
    return next;
  }

  #pexpire(key: string, ms: number, now: number): void {
    const entry = this.#entry(key);
    if (entry) entry.expiresAt = now + ms;
  }

  /** Drops members of `expiryKey` due by `now` from it and from `holdersKey` (SWEEP, SLOT_SWEEP). */
  #dropExpired(holdersKey: string, expiryKey: string, now: number): void {
    const expiry = this.#map(expiryKey);
    const holders = this.#map(holdersKey);
    let dropped = false;
    for (const [member, at] of expiry) {
      if (at <= now) {
        expiry.delete(member);
        holders.delete(member);
        dropped = true;
      }
    }
    if (dropped) {
      this.#putMap(expiryKey, expiry);
      this.#putMap(holdersKey, holders);
    }
  }

  #sum(map: Map<string, number>): number {
    let sum = 0;
    for (const value of map.values()) sum += value;
    return sum;
  }

  /** `keep` of SWEEP: renews the keys' expiries and this instance's lease expiry. */
  #keep(spend: string, lease: string, expiry: string, instance: string, ttlMs: number, now: number): void {
    this.#pexpire(spend, SPEND_TTL_MS, now);
    this.#pexpire(lease, LEASE_KEYS_TTL_MS, now);
    this.#pexpire(expiry, LEASE_KEYS_TTL_MS, now);
    const expiries = this.#map(expiry);
    expiries.set(instance, now + ttlMs);
    this.#putMap(expiry, expiries);
  }

  async leaseInit(spend: string, all: string, periodField: string, periodSpent: string): Promise<number> {
    const counters = this.#map(spend);
    if (!counters.has('all')) counters.set('all', Number(all));
    if (periodField !== '') {
      for (const field of [...counters.keys()]) {
        if (field.startsWith('p:') && field !== periodField) counters.delete(field);
      }
      if (!counters.has(periodField)) counters.set(periodField, Number(periodSpent));
    }
    this.#putMap(spend, counters);
    this.#pexpire(spend, SPEND_TTL_MS, this.clock());
    return 1;
  }

  async leaseAcquire(
    spend: string,
    lease: string,
    expiry: string,
    instance: string,
    ttlMs: number,
    allLimit: string,
    periodField: string,
    periodLimit: string,
    need: string,
    fraction: string,
    mine: string,
  ): Promise<string[]> {
    const now = this.clock();
    this.#dropExpired(lease, expiry, now);
    const counters = this.#map(spend);
    const all = counters.get('all');
    if (all === undefined) return ['init'];
    let period = 0;
    if (periodField !== '') {
      const spentInPeriod = counters.get(periodField);
      if (spentInPeriod === undefined) return ['init'];
      period = spentInPeriod;
    }
    const leases = this.#map(lease);
    const held = Number(mine);
    if (held > 0 && !leases.has(instance)) leases.set(instance, held);
    let total = this.#sum(leases);
    let room = Number.POSITIVE_INFINITY;
    if (allLimit !== '') room = Number(allLimit) - all - total;
    if (periodField !== '') room = Math.min(room, Number(periodLimit) - period - total);
    const wanted = Number(need);
    let grant = 0;
    if (room > 0 && room >= wanted) grant = Math.min(room, Math.max(wanted, room * Number(fraction)));
    if (grant > 0) {
      leases.set(instance, (leases.get(instance) ?? 0) + grant);
      total += grant;
    }
    this.#putMap(lease, leases);
    if (leases.has(instance)) this.#keep(spend, lease, expiry, instance, ttlMs, now);
    return ['ok', String(grant), String(all), String(period), String(total)];
  }

  async leaseSync(
    spend: string,
    lease: string,
    expiry: string,
    instance: string,
    ttlMs: number,
    spent: string,
    periodField: string,
    giveBack: string,
    mine: string,
  ): Promise<string[]> {
    const now = this.clock();
    this.#dropExpired(lease, expiry, now);
    const counters = this.#map(spend);
    const all = counters.get('all');
    if (all === undefined) return ['init'];
    const amount = Number(spent);
    if (amount > 0) {
      counters.set('all', all + amount);
      const inPeriod = periodField === '' ? undefined : counters.get(periodField);
      if (inPeriod !== undefined) counters.set(periodField, inPeriod + amount);
    }
    const leases = this.#map(lease);
    const current = leases.get(instance);
    if (current !== undefined) {
      const left = current - Number(giveBack);
      if (left <= 1e-12) {
        leases.delete(instance);
        this.#putMap(lease, leases);
        const expiries = this.#map(expiry);
        expiries.delete(instance);
        this.#putMap(expiry, expiries);
      } else {
        leases.set(instance, left);
        this.#keep(spend, lease, expiry, instance, ttlMs, now);
      }
    } else if (Number(mine) > 0) {
      leases.set(instance, Number(mine));
      this.#putMap(lease, leases);
      this.#keep(spend, lease, expiry, instance, ttlMs, now);
    }
    const period = periodField === '' ? 0 : (counters.get(periodField) ?? 0);
    return ['ok', String(counters.get('all')), String(period), String(this.#sum(this.#map(lease)))];
  }

  async rateAcquire(
    current: string,
    previous: string,
    tokensCurrent: string,
    tokensPrevious: string,
    weight: string,
    rpm: string,
    fraction: string,
    minimum: number,
  ): Promise<string[]> {
    let cur = this.#counter(current);
    const prev = this.#counter(previous);
    let grant = 0;
    if (rpm !== '') {
      const room = Math.floor(Number(rpm) - prev * Number(weight) - cur + 1e-9);
      if (room >= minimum && room >= 1) {
        grant = Math.min(room, Math.max(minimum, Math.floor(room * Number(fraction))));
        this.#incr(current, grant);
        this.#pexpire(current, RATE_TTL_MS, this.clock());
        cur += grant;
      }
    }
    return [
      String(grant),
      String(cur),
      String(prev),
      String(this.#counter(tokensCurrent)),
      String(this.#counter(tokensPrevious)),
    ];
  }

  async rateSync(current: string, tokensCurrent: string, giveBack: number, tokens: number): Promise<number> {
    const now = this.clock();
    if (giveBack > 0 && this.#incr(current, -giveBack) < 0) {
      this.#keys.set(current, { value: 0, expiresAt: now + RATE_TTL_MS });
    }
    if (tokens > 0) {
      this.#incr(tokensCurrent, tokens);
      this.#pexpire(tokensCurrent, RATE_TTL_MS, now);
    }
    return 1;
  }

  async slotAcquire(
    slots: string,
    expiry: string,
    instance: string,
    ttlMs: number,
    max: number,
    fraction: string,
  ): Promise<number> {
    const now = this.clock();
    this.#dropExpired(slots, expiry, now);
    const holders = this.#map(slots);
    const room = max - this.#sum(holders);
    if (room < 1) return 0;
    const grant = Math.min(room, Math.max(1, Math.floor(room * Number(fraction))));
    holders.set(instance, (holders.get(instance) ?? 0) + grant);
    this.#putMap(slots, holders);
    const expiries = this.#map(expiry);
    expiries.set(instance, now + ttlMs);
    this.#putMap(expiry, expiries);
    this.#pexpire(slots, LEASE_KEYS_TTL_MS, now);
    this.#pexpire(expiry, LEASE_KEYS_TTL_MS, now);
    return grant;
  }

  async slotSync(
    slots: string,
    expiry: string,
    instance: string,
    ttlMs: number,
    released: number,
    held: number,
  ): Promise<number> {
    const now = this.clock();
    this.#dropExpired(slots, expiry, now);
    const holders = this.#map(slots);
    const expiries = this.#map(expiry);
    let left = held;
    const current = holders.get(instance);
    if (current !== undefined) left = current - released;
    if (left > 0) {
      holders.set(instance, left);
      expiries.set(instance, now + ttlMs);
    } else {
      holders.delete(instance);
      expiries.delete(instance);
    }
    this.#putMap(slots, holders);
    this.#putMap(expiry, expiries);
    return 1;
  }
}
