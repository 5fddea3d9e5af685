import { currentWindow } from '../gateway/policy/windows.ts';
import {
  type CoordLink,
  HEARTBEAT_MS,
  IDLE_RETURN_MS,
  LEASE_FRACTION,
  LEASE_TTL_MS,
  RECLAIM_WAITS_MS,
  SYNC_DELAY_MS,
} from './redis-link.ts';
import {
  assertAmount,
  type Headroom,
  type LedgerCounters,
  type LimitedScope,
  type PeriodReading,
  type Reservation,
  type SpendLedger,
} from './spend-ledger.ts';

/** A lease is trusted for this much less than its TTL, for the round trip that renewed it (ms). */
const LEASE_MARGIN_MS = 1500;

/** What one instance knows and holds of one scope's shared counters. */
interface Local {
  scope: LimitedScope;
  /** USD this instance's lease holds in Redis (as far as it knows). */
  granted: number;
  /** Held by this instance's requests in flight; part of `granted` (or beyond it, degraded). */
  reserved: number;
  open: number;
  /** Settled spend not yet moved from the lease to the spent counters in Redis. */
  unsynced: number;
  /** Figures at the last contact with Redis. */
  all: number;
  period: number;
  /** Leases of the other instances at the last contact. */
  othersHeld: number;
  /** The recurring window the figures belong to: `p:<config>@<start>`; null when not recurring. */
  periodField: string | null;
  periodEnd: number | null;
  /** Until then (Date.now ms) the lease may be used without asking Redis. */
  validUntil: number;
  lastUsed: number;
  /** Counters must be seeded in Redis from the usage records before the next lease. */
  seeded: boolean;
  /** The limit's version at the last contact: a changed limit is checked with Redis first. */
  version: string;
  /** Another instance asked for idle budget back. */
  reclaim: boolean;
}

const recurringKey = (scope: LimitedScope) => {
  const recurring = scope.limit.recurring;
  return recurring ? `${recurring.count}:${recurring.unit}:${recurring.startedAt}` : null;
};

const keysOf = (id: string) => [`tg:spend:${id}`, `tg:lease:${id}`, `tg:leasex:${id}`] as const;

/**
 * The spend ledger shared by every instance through Redis, with budget leases (see scripts.ts
 * for the invariant): an instance takes a slice of a scope's remaining budget, admits requests
 * against it in memory (no round trip), moves what they spent into the shared counters within
 * milliseconds, and gives back what it does not use. Near the end of a budget the slices shrink
 * to single reservations, and an instance short of budget asks the others to return idle slices.
 */
export class SharedSpendLedger implements SpendLedger {
  readonly #locals = new Map<string, Local>();
  /** Per scope, the last lease request queued (requests for one scope go one at a time). */
  readonly #acquiring = new Map<string, Promise<number>>();
  #syncTimer: NodeJS.Timeout | undefined;
  readonly #heartbeat: NodeJS.Timeout;
  /** Redis round trips made on a request's path (a metric: the rest happen in the background). */
  roundTrips = 0;

  constructor(
    private readonly link: CoordLink,
    /** Whether a request under a spend limit is served on this instance's counters while Redis is down. */
    private readonly openOnFailure: boolean,
  ) {
    link.onReclaim((id) => {
      const local = this.#locals.get(id);
      if (local && local.granted - local.reserved - local.unsynced > 0) {
        local.reclaim = true;
        this.#scheduleSync(0);
      }
    });
    this.#heartbeat = setInterval(() => void this.#syncAll(true), HEARTBEAT_MS);
    this.#heartbeat.unref();
  }

  #local(scope: LimitedScope): Local {
    let local = this.#locals.get(scope.id);
    if (!local) {
      local = {
        scope,
        granted: 0,
        reserved: 0,
        open: 0,
        unsynced: 0,
        all: 0,
        period: 0,
        othersHeld: 0,
        periodField: null,
        periodEnd: null,
        validUntil: 0,
        lastUsed: Date.now(),
        seeded: false,
        version: scope.version,
        reclaim: false,
      };
      this.#locals.set(scope.id, local);
    }
    local.scope = scope;
    return local;
  }

  /** Whether the local figures may be used without asking Redis first. */
  #fresh(local: LimitedScope | Local, now: number): boolean {
    const entry = 'scope' in local ? local : this.#local(local);
    if (!entry.seeded || entry.version !== entry.scope.version || Date.now() >= entry.validUntil) return false;
    const recurring = entry.scope.limit.recurring;
    if (!recurring) return true;
    return entry.periodField?.startsWith(`p:${recurringKey(entry.scope)}@`) === true && now < (entry.periodEnd ?? 0);
  }

  async prepare(scopes: LimitedScope[], now: number): Promise<void> {
    const stale = scopes.filter((scope) => !this.#fresh(this.#local(scope), now));
    if (stale.length > 0) await Promise.all(stale.map((scope) => this.#topUp(scope, 0, now)));
  }

  /** Room for new reservations across every scope, as this instance sees it. */
  headroom(scopes: LimitedScope[], now: number): Headroom {
    let result: Headroom = { usd: Number.POSITIVE_INFINITY };
    for (const scope of scopes) {
      const local = this.#local(scope);
      const spentAll = local.all + local.unsynced;
      const spentPeriod = local.period + local.unsynced;
      const held = local.othersHeld + local.reserved;
      const { allTimeUsd, recurring } = scope.limit;
      if (allTimeUsd != null) {
        const room = allTimeUsd - spentAll - held;
        if (!(room >= result.usd)) {
          result = {
            usd: Number.isNaN(room) ? 0 : room,
            binding: { scope, kind: 'all-time', limitUsd: allTimeUsd, spentUsd: spentAll, reservedUsd: held },
          };
        }
      }
      if (recurring) {
        const room = recurring.usd - spentPeriod - held;
        if (!(room >= result.usd)) {
          result = {
            usd: Number.isNaN(room) ? 0 : room,
            binding: {
              scope,
              kind: 'recurring',
              limitUsd: recurring.usd,
              spentUsd: spentPeriod,
              reservedUsd: held,
              resetsAt: local.periodEnd ?? currentWindow(recurring, Date.parse(recurring.startedAt), now).end,
            },
          };
        }
      }
    }
    return result;
  }

  #free(local: Local): number {
    return local.granted - local.reserved - local.unsynced;
  }

  /**
   * Whether the lease covers `amount` and the limit, as it stands now, still has room for it: a
   * limit lowered after the lease was taken must not be overrun by what the lease still holds.
   */
  #covers(local: Local, amount: number, now: number): boolean {
    if (!this.#fresh(local, now) || !(this.#free(local) >= amount)) return false;
    const { allTimeUsd, recurring } = local.scope.limit;
    const held = local.othersHeld + local.reserved + local.unsynced + amount;
    if (allTimeUsd != null && !(allTimeUsd - local.all - held >= 0)) return false;
    return !recurring || recurring.usd - local.period - held >= 0;
  }

  #take(scopes: LimitedScope[], amount: number): Reservation {
    const at = Date.now();
    for (const scope of scopes) {
      const local = this.#local(scope);
      local.reserved += amount;
      local.open += 1;
      local.lastUsed = at;
    }
    return { scopes, amount };
  }

  reserve(scopes: LimitedScope[], amount: number, now: number): Reservation | Promise<Reservation | undefined> {
    assertAmount(amount, 'a reservation');
    if (scopes.every((scope) => this.#covers(this.#local(scope), amount, now))) {
      return this.#take(scopes, amount);
    }
    return this.#reserveSlowly(scopes, amount, now);
  }

  /** Grows the leases that are short, asking other instances for idle budget when Redis has none left. */
  async #reserveSlowly(scopes: LimitedScope[], amount: number, now: number): Promise<Reservation | undefined> {
    this.roundTrips += 1;
    const fits = () => scopes.every((scope) => this.#covers(this.#local(scope), amount, now));
    let reclaims = 0;
    for (let attempt = 0; attempt < 8; attempt++) {
      if (fits()) return this.#take(scopes, amount);
      const short = scopes.filter((scope) => !this.#covers(this.#local(scope), amount, now));
      let results: number[];
      try {
        results = await Promise.all(short.map((scope) => this.#topUp(scope, amount, now)));
      } catch (error) {
        if (!this.openOnFailure) throw error;
        // Degraded (TOLLGATE_COORD_FAILURE=open): this instance's own view decides.
        return this.headroom(scopes, now).usd >= amount ? this.#take(scopes, amount) : undefined;
      }
      if (fits()) return this.#take(scopes, amount);
      if (!results.includes(0)) continue; // granted, but taken by concurrent requests: again
      // Refused for want of room. Other instances may hold idle slices: ask for them back.
      const starved = short.filter((scope, index) => results[index] === 0 && this.#local(scope).othersHeld > 0);
      if (starved.length === 0 || reclaims >= RECLAIM_WAITS_MS.length) return undefined;
      for (const scope of starved) this.link.reclaim(scope.id);
      await new Promise((resolve) => setTimeout(resolve, RECLAIM_WAITS_MS[reclaims++]));
    }
    return undefined;
  }

  /**
   * Makes sure the scope's lease has `amount` free, asking Redis for the difference (at least;
   * a slice of what remains when more is left). Requests for one scope go to Redis one at a time,
   * and each first looks whether an earlier one already brought enough: a burst takes one slice,
   * not one per request. Resolves to the USD granted, 0 when refused for want of room, or -1 when
   * there was enough without asking.
   */
  #topUp(scope: LimitedScope, amount: number, now: number): Promise<number> {
    const run = () => {
      const local = this.#local(scope);
      if (this.#covers(local, amount, now)) return -1;
      return this.#acquireOnce(scope, Math.max(0, amount - this.#free(local)), now);
    };
    const previous = this.#acquiring.get(scope.id);
    const next = previous ? previous.then(run, run) : Promise.resolve().then(run);
    const settled = next.then(
      () => 0,
      () => 0,
    );
    this.#acquiring.set(scope.id, settled);
    void settled.then(() => {
      if (this.#acquiring.get(scope.id) === settled) this.#acquiring.delete(scope.id);
    });
    return next;
  }

  /**
   * Asks Redis for at least `need` more on the scope's lease, seeding its counters from the usage
   * records first when Redis has none (first use, a new window, Redis restarted). Resolves to
   * what was granted. When Redis cannot be reached: with the policy closed, throws the caller's
   * refusal; open, loads this instance's view from the usage records and rethrows.
   */
  async #acquireOnce(scope: LimitedScope, need: number, now: number): Promise<number> {
    const local = this.#local(scope);
    const window = scope.limit.recurring
      ? currentWindow(scope.limit.recurring, Date.parse(scope.limit.recurring.startedAt), now)
      : null;
    const periodField = window ? `p:${recurringKey(scope)}@${window.start}` : null;
    if (periodField !== local.periodField && local.seeded) {
      local.seeded = false;
      local.period = 0;
    }
    const [spendKey, leaseKey, expiryKey] = keysOf(scope.id);
    try {
      for (let tries = 0; tries < 2; tries++) {
        // Redis says when it has no counters for the scope (or the window): only then are they
        // read from the usage records, once for all instances.
        if (tries > 0) {
          const spent = await scope.loadSpent(window?.start ?? null);
          await this.link.run((redis) =>
            redis.leaseInit(spendKey, String(spent.allTime), periodField ?? '', String(spent.since)),
          );
        }
        const sentAt = Date.now();
        const mine = local.granted;
        const reply = await this.link.run((redis) =>
          redis.leaseAcquire(
            spendKey,
            leaseKey,
            expiryKey,
            this.link.instance,
            LEASE_TTL_MS,
            scope.limit.allTimeUsd == null ? '' : String(scope.limit.allTimeUsd),
            periodField ?? '',
            scope.limit.recurring ? String(scope.limit.recurring.usd) : '0',
            String(need),
            String(LEASE_FRACTION),
            String(mine),
          ),
        );
        if (reply[0] === 'init') continue;
        const grant = Number(reply[1]);
        local.granted += grant;
        local.all = Number(reply[2]);
        local.period = Number(reply[3]);
        local.othersHeld = Math.max(0, Number(reply[4]) - mine - grant);
        local.periodField = periodField;
        local.periodEnd = window?.end ?? null;
        local.seeded = true;
        local.version = scope.version;
        local.validUntil = sentAt + LEASE_TTL_MS - LEASE_MARGIN_MS;
        return grant;
      }
      throw new Error(`spend ledger: the counters of ${scope.id} could not be seeded in Redis`);
    } catch (error) {
      if (!this.openOnFailure) throw this.link.unavailable();
      if (!local.seeded || local.periodField !== periodField) {
        // Never seen, or a new window: this instance's view starts from the usage records.
        const spent = await scope.loadSpent(window?.start ?? null);
        local.all = spent.allTime;
        local.period = window ? spent.since : 0;
        local.periodField = periodField;
        local.periodEnd = window?.end ?? null;
      }
      throw error;
    }
  }

  settle(reservation: Reservation, actual: number, _now: number): void {
    assertAmount(reservation.amount, 'a reservation');
    assertAmount(actual, 'a settled cost');
    for (const scope of reservation.scopes) {
      const local = this.#local(scope);
      this.#close(local, reservation.amount);
      local.unsynced += actual;
    }
    this.#scheduleSync(SYNC_DELAY_MS);
  }

  release(reservation: Reservation): void {
    assertAmount(reservation.amount, 'a reservation');
    for (const scope of reservation.scopes) {
      const local = this.#locals.get(scope.id);
      if (local) this.#close(local, reservation.amount);
    }
  }

  #close(local: Local, amount: number): void {
    local.open -= 1;
    local.reserved = local.open > 0 ? local.reserved - amount : 0;
  }

  #scheduleSync(delay: number): void {
    if (this.#syncTimer) return;
    this.#syncTimer = setTimeout(() => {
      this.#syncTimer = undefined;
      void this.#syncAll(false);
    }, delay);
    this.#syncTimer.unref();
  }

  /**
   * Moves settled spend into the shared counters, gives back idle or reclaimed leases, and (on
   * the heartbeat) renews every lease held. A failed sync is put back and tried again later.
   */
  async #syncAll(heartbeat: boolean): Promise<void> {
    const at = Date.now();
    const work: Promise<void>[] = [];
    for (const [id, local] of this.#locals) {
      const idle = local.reclaim || at - local.lastUsed > IDLE_RETURN_MS;
      const returned = idle ? Math.max(0, this.#free(local)) : 0;
      if (local.unsynced === 0 && returned === 0 && !(heartbeat && local.granted > 0)) {
        // Forget scopes long unused, so the map does not grow with every key ever seen.
        if (heartbeat && local.open === 0 && local.granted === 0 && at - local.lastUsed > 60_000) {
          this.#locals.delete(id);
        }
        continue;
      }
      work.push(this.#sync(local, returned));
    }
    await Promise.all(work);
  }

  async #sync(local: Local, returned: number): Promise<void> {
    const spent = local.unsynced;
    const giveBack = Math.min(local.granted, spent + returned);
    local.unsynced -= spent;
    local.granted -= giveBack;
    local.reclaim = false;
    const [spendKey, leaseKey, expiryKey] = keysOf(local.scope.id);
    const sentAt = Date.now();
    try {
      const reply = await this.link.run((redis) =>
        redis.leaseSync(
          spendKey,
          leaseKey,
          expiryKey,
          this.link.instance,
          LEASE_TTL_MS,
          String(spent),
          local.periodField ?? '',
          String(giveBack),
          String(Math.max(local.granted, local.reserved)),
        ),
      );
      if (reply[0] === 'init') {
        // Redis lost the counters: they are seeded again from the usage records, which hold
        // this spend, before the next lease.
        local.seeded = false;
        local.granted = 0;
        return;
      }
      local.all = Number(reply[1]);
      local.period = Number(reply[2]);
      local.othersHeld = Math.max(0, Number(reply[3]) - local.granted);
      if (local.granted > 0) local.validUntil = sentAt + LEASE_TTL_MS - LEASE_MARGIN_MS;
    } catch {
      local.unsynced += spent;
      local.granted += giveBack;
    }
  }

  peek(scopeId: string): LedgerCounters | undefined {
    const local = this.#locals.get(scopeId);
    return local
      ? {
          allTimeSpent: local.all + local.unsynced,
          periodSpent: local.period + local.unsynced,
          reserved: local.reserved,
        }
      : undefined;
  }

  read(scope: LimitedScope, now: number): PeriodReading {
    const local = this.#local(scope);
    const recurring = scope.limit.recurring;
    const window = recurring ? currentWindow(recurring, Date.parse(recurring.startedAt), now) : null;
    return {
      allTimeSpent: local.all + local.unsynced,
      reserved: local.reserved,
      periodSpent: local.period + local.unsynced,
      periodStart: window?.start ?? null,
      periodEnd: window?.end ?? null,
    };
  }

  /** Pushes what was spent and gives back every lease (at shutdown). */
  async close(): Promise<void> {
    clearInterval(this.#heartbeat);
    clearTimeout(this.#syncTimer);
    for (const local of this.#locals.values()) local.reclaim = true;
    await this.#syncAll(false).catch(() => {});
  }
}
