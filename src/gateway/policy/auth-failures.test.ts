import { describe, expect, it } from 'vitest';
import { AuthFailures, clientBucket } from './auth-failures.ts';

describe('AuthFailures', () => {
  it('makes an address wait once it reaches the limit, until its window ends', () => {
    const failures = new AuthFailures(3, 10_000);
    for (let i = 0; i < 3; i++) {
      expect(failures.retryAfter('203.0.113.7', 1000)).toBe(0);
      failures.record('203.0.113.7', 1000);
    }
    expect(failures.retryAfter('203.0.113.7', 1000)).toBe(10);
    expect(failures.retryAfter('203.0.113.7', 10_500)).toBe(1);
    expect(failures.retryAfter('203.0.113.7', 11_000)).toBe(0);
  });

  it('does not make other addresses wait', () => {
    const failures = new AuthFailures(1, 10_000);
    failures.record('203.0.113.7', 0);
    expect(failures.retryAfter('203.0.113.7', 0)).toBeGreaterThan(0);
    expect(failures.retryAfter('203.0.113.8', 0)).toBe(0);
  });

  it('counts an IPv6 /64 as one client, and an IPv4-mapped address as its IPv4 address', () => {
    expect(clientBucket('2001:db8:1:2:aaaa::1')).toBe(clientBucket('2001:db8:1:2:ffff:1:2:3'));
    expect(clientBucket('2001:db8:1:2::1')).not.toBe(clientBucket('2001:db8:1:3::1'));
    expect(clientBucket('::ffff:192.0.2.1')).toBe('192.0.2.1');
    expect(clientBucket('::1')).toBe('0:0:0:0::/64');
    expect(clientBucket(undefined)).toBe('unknown');
  });

  it('tracks a bounded number of addresses', () => {
    const failures = new AuthFailures(1, 60_000, 2);
    failures.record('192.0.2.1', 0);
    failures.record('192.0.2.2', 0);
    failures.record('192.0.2.3', 0);
    expect(failures.retryAfter('192.0.2.1', 0)).toBe(0);
    expect(failures.retryAfter('192.0.2.3', 0)).toBeGreaterThan(0);
  });

  it('is off with a limit of 0', () => {
    const failures = new AuthFailures(0, 60_000);
    for (let i = 0; i < 100; i++) failures.record('192.0.2.1', 0);
    expect(failures.retryAfter('192.0.2.1', 0)).toBe(0);
  });
});
