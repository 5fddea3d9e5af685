import { describe, expect, it } from 'vitest';
import { SignInAttempts, SignInThrottle } from './attempts.ts';

describe('sign-in throttling', () => {
  it('throttles an address that keeps failing one account, and only that address', () => {
    const throttle = new SignInThrottle({ perAccount: 3, perAddress: 100, windowMs: 60_000 });
    for (let i = 0; i < 3; i++) throttle.failed('203.0.113.5', 'owner@example.com', 0);
    expect(throttle.wait('203.0.113.5', 'owner@example.com', 1000)).toBe(59);
    // The owner, from their own address, is not locked out by someone else's failures.
    expect(throttle.wait('198.51.100.7', 'owner@example.com', 1000)).toBe(0);
    expect(throttle.wait('203.0.113.5', 'owner@example.com', 60_000)).toBe(0);
  });

  it('throttles an address that fails across many accounts', () => {
    const throttle = new SignInThrottle({ perAccount: 5, perAddress: 10, windowMs: 60_000 });
    for (let i = 0; i < 10; i++) throttle.failed('203.0.113.5', `user${i}@example.com`, 0);
    expect(throttle.wait('203.0.113.5', 'fresh@example.com', 0)).toBeGreaterThan(0);
    expect(throttle.wait('198.51.100.7', 'fresh@example.com', 0)).toBe(0);
  });

  it('does not let a success on one account reset the address count', () => {
    const throttle = new SignInThrottle({ perAccount: 5, perAddress: 4, windowMs: 60_000 });
    for (let i = 0; i < 4; i++) throttle.failed('203.0.113.5', `user${i}@example.com`, 0);
    throttle.succeeded('203.0.113.5', 'mine@example.com');
    expect(throttle.wait('203.0.113.5', 'user9@example.com', 0)).toBeGreaterThan(0);
  });

  it('keeps recent counts when a flood of new keys overflows the table', () => {
    const attempts = new SignInAttempts(2, 60_000);
    for (let i = 0; i < 99_998; i++) attempts.failed(`flood${i}`, 0);
    attempts.failed('recent', 1);
    attempts.failed('recent', 1);
    for (let i = 0; i < 10; i++) attempts.failed(`more${i}`, 2);
    // The oldest entries are forgotten first; a full wipe would have freed 'recent' too.
    expect(attempts.wait('recent', 3)).toBeGreaterThan(0);
  });
});
