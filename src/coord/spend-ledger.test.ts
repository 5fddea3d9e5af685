import { describe, expect, it } from 'vitest';
import type { SpendLimit } from '../store/schema.ts';
import { InMemorySpendLedger, type LimitedScope } from './spend-ledger.ts';

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
