import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { SpendLimit } from '../store/schema.ts';
import {
  InMemorySpendLedger,
  LedgerAmountError,
  type LimitedScope,
  MAX_AMOUNT_USD,
  type Reservation,
} from './spend-ledger.ts';

function scope(id: string, limit: SpendLimit, spent = { allTime: 0, since: 0 }): LimitedScope {
  return { id, label: id, limit, version: JSON.stringify(limit), loadSpent: async () => spent };
}

const HOUR = 3_600_000;
const T0 = Date.parse('2026-01-01T00:00:00Z');

describe('in-memory spend ledger', () => {
  it('never lets reservations exceed the tightest limit across scopes', async () => {
    const ledger = new InMemorySpendLedger();
    const key = scope('key', { allTimeUsd: 10 });
    const project = scope('project', { allTimeUsd: 4 }, { allTime: 1, since: 0 });
    await ledger.prepare([key, project], T0);
    expect(ledger.headroom([key, project], T0)).toMatchObject({
      usd: 3,
      binding: { scope: project, kind: 'all-time' },
    });
    const first = ledger.reserve([key, project], 2, T0);
    expect(first).toBeDefined();
    expect(ledger.reserve([key, project], 2, T0)).toBeUndefined();
    ledger.settle(first!, 0.5, T0);
    expect(ledger.headroom([key, project], T0).usd).toBeCloseTo(2.5);
    const second = ledger.reserve([key, project], 2.5, T0);
    ledger.release(second!);
    expect(ledger.read(key, T0)).toMatchObject({ allTimeSpent: 0.5, reserved: 0 });
  });

  it('shows a scope’s counters by id without loading or changing anything', async () => {
    const ledger = new InMemorySpendLedger();
    const key = scope('key:k', { allTimeUsd: 10 }, { allTime: 1, since: 0 });
    expect(ledger.peek('key:k')).toBeUndefined();
    await ledger.prepare([key], T0);
    const held = ledger.reserve([key], 2, T0);
    expect(ledger.peek('key:k')).toEqual({ allTimeSpent: 1, periodSpent: 0, reserved: 2 });
    ledger.settle(held!, 0.25, T0);
    expect(ledger.peek('key:k')).toEqual({ allTimeSpent: 1.25, periodSpent: 0.25, reserved: 0 });
  });

  it('holds exactly nothing once every reservation is closed, whatever the float residue', async () => {
    const ledger = new InMemorySpendLedger();
    const key = scope('key:r', { allTimeUsd: 10 });
    await ledger.prepare([key], T0);
    const held = [0.1, 0.2, 0.000127, 0.3].map((amount) => ledger.reserve([key], amount, T0) as Reservation);
    ledger.release(held[0] as Reservation);
    ledger.settle(held[2] as Reservation, 0.00012, T0);
    ledger.release(held[1] as Reservation);
    expect(ledger.peek('key:r')?.reserved).toBeCloseTo(0.3, 15);
    ledger.release(held[3] as Reservation);
    expect(ledger.peek('key:r')?.reserved).toBe(0);
  });

  it('starts each recurring window empty, and reports when it resets', async () => {
    const ledger = new InMemorySpendLedger();
    const key = scope('key', { recurring: { usd: 1, count: 1, unit: 'hour', startedAt: new Date(T0).toISOString() } });
    await ledger.prepare([key], T0 + 10);
    const reservation = ledger.reserve([key], 1, T0 + 10);
    ledger.settle(reservation!, 1, T0 + 20);
    expect(ledger.headroom([key], T0 + HOUR - 1)).toMatchObject({
      usd: 0,
      binding: { kind: 'recurring', resetsAt: T0 + HOUR },
    });
    expect(ledger.headroom([key], T0 + HOUR).usd).toBe(1);
    expect(ledger.read(key, T0 + HOUR)).toMatchObject({ allTimeSpent: 1, periodSpent: 0, periodStart: T0 + HOUR });
  });

  it('rereads spend when a limit changes and nothing is in flight', async () => {
    const ledger = new InMemorySpendLedger();
    let loads = 0;
    const make = (usd: number): LimitedScope => ({
      ...scope('key', { allTimeUsd: usd }),
      loadSpent: async () => {
        loads++;
        return { allTime: 3, since: 0 };
      },
    });
    await ledger.prepare([make(5)], T0);
    await ledger.prepare([make(5)], T0);
    expect(loads).toBe(1);
    await ledger.prepare([make(8)], T0);
    expect(loads).toBe(2);
    expect(ledger.headroom([make(8)], T0).usd).toBe(5);
  });
});

/** Any double at all: NaN, ±Infinity, −0, subnormals, huge and negative numbers. */
const anyNumber = fc.oneof(
  fc.double(),
  fc.constantFrom(Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, -0, -1e-300, 1e308),
);
const isAmount = (value: number) => Number.isFinite(value) && value >= 0 && value <= MAX_AMOUNT_USD;

type Op = { kind: 'reserve'; amount: number } | { kind: 'settle'; actual: number } | { kind: 'release' };
const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constant('reserve' as const), amount: fc.oneof(anyNumber, fc.double({ min: 0, max: 2 })) }),
  fc.record({ kind: fc.constant('settle' as const), actual: fc.oneof(anyNumber, fc.double({ min: 0, max: 2 })) }),
  fc.record({ kind: fc.constant('release' as const) }),
);

describe('in-memory spend ledger, over arbitrary numbers', () => {
  const limit = 5;

  it('refuses every amount that is not finite and non-negative, and leaves its counters as they were', async () => {
    await fc.assert(
      fc.asyncProperty(anyNumber, anyNumber, async (amount, actual) => {
        const ledger = new InMemorySpendLedger();
        const key = scope('key', { allTimeUsd: limit });
        await ledger.prepare([key], T0);
        const held = ledger.reserve([key], 1, T0) as NonNullable<ReturnType<InMemorySpendLedger['reserve']>>;
        const before = ledger.read(key, T0);
        if (!isAmount(amount)) {
          expect(() => ledger.reserve([key], amount, T0)).toThrow(LedgerAmountError);
          expect(() => ledger.release({ scopes: [key], amount })).toThrow(LedgerAmountError);
          expect(() => ledger.settle({ scopes: [key], amount }, 0, T0)).toThrow(LedgerAmountError);
        }
        if (!isAmount(actual)) expect(() => ledger.settle(held, actual, T0)).toThrow(LedgerAmountError);
        if (!isAmount(amount) || !isAmount(actual)) expect(ledger.read(key, T0)).toEqual(before);
      }),
      { numRuns: 500 },
    );
  });

  it('keeps every counter a finite amount, and never lets reservations past the limit', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(op, { maxLength: 40 }), async (ops) => {
        const ledger = new InMemorySpendLedger();
        const key = scope('key', { allTimeUsd: limit });
        await ledger.prepare([key], T0);
        const held: Reservation[] = [];
        let spent = 0;
        for (const next of ops) {
          try {
            if (next.kind === 'reserve') {
              const reservation = ledger.reserve([key], next.amount, T0);
              if (reservation) held.push(reservation);
              // A reservation is granted only if it fits under the limit with everything else.
              const reserved = held.reduce((sum, each) => sum + each.amount, 0);
              if (reservation) expect(spent + reserved).toBeLessThanOrEqual(limit + 1e-9);
            } else if (next.kind === 'settle' && held.length > 0) {
              ledger.settle(held[0] as Reservation, next.actual, T0);
              held.shift();
              spent += next.actual;
            } else if (next.kind === 'release' && held.length > 0) {
              ledger.release(held.shift() as Reservation);
            }
          } catch (error) {
            expect(error).toBeInstanceOf(LedgerAmountError);
          }
          const reading = ledger.read(key, T0);
          const reserved = held.reduce((sum, reservation) => sum + reservation.amount, 0);
          expect(Number.isFinite(reading.allTimeSpent) && Number.isFinite(reading.reserved)).toBe(true);
          expect(reading.allTimeSpent).toBeCloseTo(spent, 6);
          expect(reading.reserved).toBeCloseTo(reserved, 6);
          expect(ledger.headroom([key], T0).usd).not.toBeNaN();
        }
      }),
      { numRuns: 300 },
    );
  });

  it('refuses to load a spend that is not an amount (nothing is cached; the next request reads again)', async () => {
    await fc.assert(
      fc.asyncProperty(
        anyNumber.filter((value) => !isAmount(value)),
        async (bad) => {
          const ledger = new InMemorySpendLedger();
          const key = scope('key', { allTimeUsd: limit }, { allTime: bad, since: 0 });
          await expect(ledger.prepare([key], T0)).rejects.toThrow(LedgerAmountError);
          expect(() => ledger.headroom([key], T0)).toThrow(/before prepare/);
        },
      ),
      { numRuns: 50 },
    );
  });
});
