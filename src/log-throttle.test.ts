import { describe, expect, it } from 'vitest';
import { LogThrottle } from './log-throttle.ts';

describe('log throttle', () => {
  it('lets the first line of a kind through, then one per window with the count held back', () => {
    let now = 0;
    const throttle = new LogThrottle({ windowMs: 1000, clock: () => now });
    expect(throttle.admit('retry:08006')).toBe(0);
    for (let i = 0; i < 500; i++) expect(throttle.admit('retry:08006')).toBeUndefined();
    expect(throttle.admit('dead-letter:22P02')).toBe(0);
    now = 1000;
    expect(throttle.admit('retry:08006')).toBe(500);
    expect(throttle.admit('retry:08006')).toBeUndefined();
  });

  it('remembers a bounded number of kinds', () => {
    const throttle = new LogThrottle({ windowMs: 60_000, maxKinds: 10, clock: () => 0 });
    for (let i = 0; i < 10_000; i++) throttle.admit(`kind-${i}`);
    // The oldest kinds were forgotten, so they are let through again; memory stayed bounded.
    expect(throttle.admit('kind-0')).toBe(0);
    expect(throttle.admit('kind-9999')).toBeUndefined();
  });
});
