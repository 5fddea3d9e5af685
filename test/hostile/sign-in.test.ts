import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backends } from '../support/backends.ts';
import { signIn } from '../support/sessions.ts';
import { type RunningTollgate, startTollgate } from '../support/tollgate.ts';

const OWNER = { email: 'owner@example.com', password: 'owner-password-123' };
const from = (address: string) => ({ 'x-forwarded-for': address });

describe('sign-in throttling behind a trusted proxy', () => {
  let tg: RunningTollgate;

  beforeAll(async () => {
    // The test talks to Tollgate from 127.0.0.1, posing as the reverse proxy in front of it.
    tg = await startTollgate(await backends()[0]!.prepare(), {
      TOLLGATE_ADMIN_EMAIL: OWNER.email,
      TOLLGATE_ADMIN_PASSWORD: OWNER.password,
      TOLLGATE_TRUSTED_PROXIES: '127.0.0.1,::1',
    });
  }, 60_000);
  afterAll(() => tg?.close());

  it("does not let someone lock the owner out by failing sign-ins for the owner's email", async () => {
    for (let i = 0; i < 8; i++) await signIn(tg.url, OWNER.email, `guess-${i}-password`, from('203.0.113.5'));
    const attacker = await signIn(tg.url, OWNER.email, OWNER.password, from('203.0.113.5'));
    expect(attacker.status).toBe(429);
    expect(attacker.body.error.code).toBe('sign_in_throttled');
    const owner = await signIn(tg.url, OWNER.email, OWNER.password, from('198.51.100.7'));
    expect(owner.status).toBe(200);
  });

  it('throttles an address that fails across many accounts', async () => {
    for (let i = 0; i < 30; i++) {
      const failed = await signIn(tg.url, `user${i}@example.com`, 'not-the-password', from('203.0.113.77'));
      expect(failed.status).toBe(401);
    }
    const next = await signIn(tg.url, 'someone-new@example.com', 'not-the-password', from('203.0.113.77'));
    expect(next.status).toBe(429);
    expect((await signIn(tg.url, OWNER.email, OWNER.password, from('198.51.100.8'))).status).toBe(200);
  });

  it('checks only a few passwords at once and refuses the excess quickly instead of queueing them all', async () => {
    const started = Date.now();
    const results = await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        signIn(tg.url, `flood${i}@example.com`, 'not-the-password', from(`192.0.2.${i + 1}`)),
      ),
    );
    const statuses = results.map((result) => result.status);
    // At most 2 checks run and 8 wait at any moment; 40 arriving together cannot all be taken.
    expect(statuses.filter((status) => status === 503).length).toBeGreaterThanOrEqual(10);
    expect(statuses.every((status) => status === 401 || status === 503)).toBe(true);
    const busy = results.find((result) => result.status === 503);
    expect(busy?.body.error.code).toBe('sign_in_busy');
    expect(Date.now() - started).toBeLessThan(20_000);
    // And the owner can still sign in once the flood has passed.
    expect((await signIn(tg.url, OWNER.email, OWNER.password, from('198.51.100.9'))).status).toBe(200);
  });
});

describe('sign-in throttling without a trusted proxy', () => {
  let tg: RunningTollgate;

  beforeAll(async () => {
    tg = await startTollgate(await backends()[0]!.prepare(), {
      TOLLGATE_ADMIN_EMAIL: OWNER.email,
      TOLLGATE_ADMIN_PASSWORD: OWNER.password,
    });
  }, 60_000);
  afterAll(() => tg?.close());

  it('does not believe X-Forwarded-For: a new header per guess does not buy more guesses', async () => {
    for (let i = 0; i < 5; i++) await signIn(tg.url, OWNER.email, 'wrong-password-1', from(`203.0.113.${i + 1}`));
    const next = await signIn(tg.url, OWNER.email, OWNER.password, from('198.51.100.7'));
    expect(next.status).toBe(429);
  });
});
