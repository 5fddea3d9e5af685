import { currentWindow } from '../gateway/policy/windows.ts';
import type { SpendLimit } from '../store/schema.ts';

/** Something that has spend limits: a key, a user, a project or an organisation. */
export interface LimitedScope {
  /** Unique across kinds, e.g. `key:<uuid>`. */
  id: string;
  /** How messages name it, e.g. `key "my-vscode-plugin"`. */
  label: string;
  limit: SpendLimit;
  /** Changes whenever `limit` changes (e.g. its JSON), so counters can be reloaded. */
  version: string;
  /** What was spent before this process knew the scope: all time, and since `since` (ms). */
  loadSpent(since: number | null): Promise<{ allTime: number; since: number }>;
}

/** The limit that leaves the least room, for the message of a refusal. */
export interface Binding {
  scope: LimitedScope;
  kind: 'all-time' | 'recurring';
  limitUsd: number;
  spentUsd: number;
  /** Held by requests still in flight. */
  reservedUsd: number;
  /** End of the current window, for a recurring limit (ms). */
  resetsAt?: number;
}

export interface Headroom {
  /** USD that may still be reserved across every scope; Infinity when nothing is limited. */
  usd: number;
  binding?: Binding;
}

export interface Reservation {
  readonly scopes: LimitedScope[];
  readonly amount: number;
}

export interface PeriodReading {
  allTimeSpent: number;
  reserved: number;
  periodSpent: number;
  periodStart: number | null;
  periodEnd: number | null;
}

/**
 * Spend counters behind one interface: reserve the worst case before forwarding, settle to
 * the actual cost after, release on failure. `headroom` followed by `reserve` must not let two
 * callers take the same budget: in memory that holds because both run in one tick; a shared
 * store (Redis) implements `reserve` as one atomic check-and-add and reports a lost race.
 */
export interface SpendLedger {
  /** Loads the counters of scopes not seen yet; call before `headroom`/`reserve`. */
  prepare(scopes: LimitedScope[], now: number): Promise<void>;
  headroom(scopes: LimitedScope[], now: number): Headroom;
  /**
   * Reserves `amount` on every scope, or nothing and undefined if it does not fit. A shared
   * ledger answers at once when its lease covers the amount, else after asking Redis.
   */
  reserve(
    scopes: LimitedScope[],
    amount: number,
    now: number,
  ): Reservation | undefined | Promise<Reservation | undefined>;
  settle(reservation: Reservation, actual: number, now: number): void;
  release(reservation: Reservation): void;
  read(scope: LimitedScope, now: number): PeriodReading;
  /**
   * The counters of a scope by id, as they stand (no window roll-over, no loading): undefined
   * for a scope not loaded yet. Read-only; for checks such as "spent equals the settled records,
   * and nothing is held at rest".
   */
  peek(scopeId: string): LedgerCounters | undefined;
}

/** What the ledger holds for one scope. */
export interface LedgerCounters {
  allTimeSpent: number;
  /** Spent in the current window; meaningful only for a recurring limit. */
  periodSpent: number;
  /** Held by requests in flight. */
  reserved: number;
}

interface Counter {
  version: string;
  allTimeSpent: number;
  reserved: number;
  /**
   * Reservations open on this counter. When the last one closes, `reserved` is set to exactly
   * 0: subtracting the amounts added leaves float residue (1e-19), which would otherwise never
   * let a changed limit reload (see prepare) and make "nothing held at rest" untrue.
   */
  open: number;
  /** The recurring configuration these period figures belong to. */
  recurringKey: string | null;
  periodStart: number | null;
  /** End of the current window: until then `#counter` does no date arithmetic. */
  periodEnd: number | null;
  periodSpent: number;
}

/**
 * An amount that cannot be money reached the ledger (NaN, ±Infinity, a negative number): the
 * operation is refused and no counter changes. One such amount would otherwise poison a
 * counter for good (−Infinity reserved, then NaN), and every check against it would pass.
 */
export class LedgerAmountError extends RangeError {
  override name = 'LedgerAmountError';
}

/** No single amount is larger (a trillion dollars), so no sum of them overflows to Infinity. */
export const MAX_AMOUNT_USD = 1e12;

/** Fails closed: throws before any counter is touched. */
export function assertAmount(amount: unknown, what: string): asserts amount is number {
  if (typeof amount !== 'number' || !Number.isFinite(amount) || amount < 0 || amount > MAX_AMOUNT_USD) {
    throw new LedgerAmountError(
      `spend ledger: ${what} must be an amount from 0 to ${MAX_AMOUNT_USD} USD, not ${String(amount)}`,
    );
  }
}

/** Room left under a limit; a room that is not a number is no room (fail closed). */
const roomOf = (room: number) => (Number.isNaN(room) ? 0 : room);

const recurringKey = (limit: SpendLimit) =>
  limit.recurring ? `${limit.recurring.count}:${limit.recurring.unit}:${limit.recurring.startedAt}` : null;

/** Takes a closed reservation's amount off a counter; the last one leaves exactly 0 held. */
function close(counter: Counter, amount: number): void {
  counter.open -= 1;
  counter.reserved = counter.open > 0 ? counter.reserved - amount : 0;
}

/** One process's counters. Exact for one instance; several instances need a shared ledger. */
export class InMemorySpendLedger implements SpendLedger {
  readonly #counters = new Map<string, Counter>();
  readonly #loading = new Map<string, Promise<void>>();

  async prepare(scopes: LimitedScope[], now: number): Promise<void> {
    const waits: Promise<void>[] = [];
    for (const scope of scopes) {
      const counter = this.#counters.get(scope.id);
      // A changed limit is read afresh from the records, unless calls are in flight on it.
      if (counter && counter.version !== scope.version && counter.reserved === 0) this.#counters.delete(scope.id);
      else if (counter) continue;
      let loading = this.#loading.get(scope.id);
      if (!loading) {
        loading = this.#load(scope, now).finally(() => this.#loading.delete(scope.id));
        this.#loading.set(scope.id, loading);
      }
      waits.push(loading);
    }
    if (waits.length > 0) await Promise.all(waits);
  }

  async #load(scope: LimitedScope, now: number): Promise<void> {
    const window = scope.limit.recurring
      ? currentWindow(scope.limit.recurring, Date.parse(scope.limit.recurring.startedAt), now)
      : null;
    const spent = await scope.loadSpent(window?.start ?? null);
    assertAmount(spent.allTime, `spend recorded on ${scope.id}`);
    if (window) assertAmount(spent.since, `spend recorded on ${scope.id} this period`);
    this.#counters.set(scope.id, {
      version: scope.version,
      allTimeSpent: spent.allTime,
      reserved: 0,
      open: 0,
      recurringKey: recurringKey(scope.limit),
      periodStart: window?.start ?? null,
      periodEnd: window?.end ?? null,
      periodSpent: window ? spent.since : 0,
    });
  }

  /** The counter with its period rolled forward to the window containing `now`. */
  #counter(scope: LimitedScope, now: number): Counter {
    const counter = this.#counters.get(scope.id);
    if (!counter) throw new Error(`spend ledger: ${scope.id} used before prepare()`);
    const recurring = scope.limit.recurring;
    if (!recurring) return counter;
    // The common case: same configuration, same window. Only a new window costs date arithmetic.
    if (counter.version === scope.version && counter.periodEnd !== null && now < counter.periodEnd) return counter;
    const key = recurringKey(scope.limit);
    const window = currentWindow(recurring, Date.parse(recurring.startedAt), now);
    if (counter.recurringKey !== key || counter.periodStart !== window.start) {
      // A new window, or (changed while calls were in flight, see prepare) a new configuration:
      // either way it starts with nothing spent in it.
      counter.recurringKey = key;
      counter.periodSpent = 0;
    }
    counter.periodStart = window.start;
    counter.periodEnd = window.end;
    counter.version = scope.version;
    return counter;
  }

  headroom(scopes: LimitedScope[], now: number): Headroom {
    let result: Headroom = { usd: Number.POSITIVE_INFINITY };
    for (const scope of scopes) {
      const counter = this.#counter(scope, now);
      const { allTimeUsd, recurring } = scope.limit;
      if (allTimeUsd != null) {
        const room = roomOf(allTimeUsd - counter.allTimeSpent - counter.reserved);
        if (room < result.usd) {
          result = {
            usd: room,
            binding: {
              scope,
              kind: 'all-time',
              limitUsd: allTimeUsd,
              spentUsd: counter.allTimeSpent,
              reservedUsd: counter.reserved,
            },
          };
        }
      }
      if (recurring) {
        const room = roomOf(recurring.usd - counter.periodSpent - counter.reserved);
        if (room < result.usd) {
          result = {
            usd: room,
            binding: {
              scope,
              kind: 'recurring',
              limitUsd: recurring.usd,
              spentUsd: counter.periodSpent,
              reservedUsd: counter.reserved,
              resetsAt: counter.periodEnd ?? undefined,
            },
          };
        }
      }
    }
    return result;
  }

  reserve(scopes: LimitedScope[], amount: number, now: number): Reservation | undefined {
    assertAmount(amount, 'a reservation');
    if (!(this.headroom(scopes, now).usd >= amount)) return undefined;
    for (const scope of scopes) {
      const counter = this.#counter(scope, now);
      counter.reserved += amount;
      counter.open += 1;
    }
    return { scopes, amount };
  }

  settle(reservation: Reservation, actual: number, now: number): void {
    assertAmount(reservation.amount, 'a reservation');
    assertAmount(actual, 'a settled cost');
    for (const scope of reservation.scopes) {
      const counter = this.#counter(scope, now);
      close(counter, reservation.amount);
      counter.allTimeSpent += actual;
      counter.periodSpent += actual;
    }
  }

  release(reservation: Reservation): void {
    assertAmount(reservation.amount, 'a reservation');
    for (const scope of reservation.scopes) {
      const counter = this.#counters.get(scope.id);
      if (counter) close(counter, reservation.amount);
    }
  }

  peek(scopeId: string): LedgerCounters | undefined {
    const counter = this.#counters.get(scopeId);
    return counter
      ? { allTimeSpent: counter.allTimeSpent, periodSpent: counter.periodSpent, reserved: counter.reserved }
      : undefined;
  }

  read(scope: LimitedScope, now: number): PeriodReading {
    const counter = this.#counter(scope, now);
    const recurring = scope.limit.recurring;
    const window = recurring ? currentWindow(recurring, Date.parse(recurring.startedAt), now) : null;
    return {
      allTimeSpent: counter.allTimeSpent,
      reserved: counter.reserved,
      periodSpent: counter.periodSpent,
      periodStart: window?.start ?? null,
      periodEnd: window?.end ?? null,
    };
  }
}
