import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backends } from './support/backends.ts';
import { type RunningTollgate, startTollgate } from './support/tollgate.ts';

const OWNER = { email: 'owner@example.com', password: 'owner-password-123' };

interface Session {
  cookie: string;
  csrf: string;
}

describe.each(backends())('dashboard sign-in and roles on $name', (backend) => {
  let tg: RunningTollgate;

  beforeAll(async () => {
    tg = await startTollgate(await backend.prepare(), {
      TOLLGATE_ADMIN_EMAIL: OWNER.email,
      TOLLGATE_ADMIN_PASSWORD: OWNER.password,
    });
  }, 60_000);
  afterAll(() => tg?.close());

  async function signIn(email: string, password: string): Promise<Session & { status: number; setCookie: string }> {
    const response = await fetch(`${tg.url}/api/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email, password }),
    });
    const setCookie = response.headers.get('set-cookie') ?? '';
    const body = await response.json();
    return { status: response.status, setCookie, cookie: setCookie.split(';')[0] ?? '', csrf: body.csrfToken };
  }

  async function as(session: Session, method: string, path: string, body?: unknown, csrf = true) {
    const response = await fetch(`${tg.url}${path}`, {
      method,
      headers: {
        cookie: session.cookie,
        ...(csrf ? { 'x-csrf-token': session.csrf } : {}),
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    return { status: response.status, body: text ? JSON.parse(text) : undefined };
  }

  it('signs the first owner in with an HttpOnly, SameSite session cookie', async () => {
    const session = await signIn(OWNER.email, OWNER.password);
    expect(session.status).toBe(200);
    expect(session.setCookie).toMatch(/^tg_session=[\w-]{40,};/);
    expect(session.setCookie).toMatch(/HttpOnly/);
    expect(session.setCookie).toMatch(/SameSite=Lax/);
    const me = await as(session, 'GET', '/api/auth/me');
    expect(me.body.user).toMatchObject({ email: OWNER.email, role: 'owner' });
    expect((await as(session, 'GET', '/api/v1/keys')).status).toBe(200);
    const signedOut = await as(session, 'POST', '/api/auth/logout');
    expect(signedOut.status).toBe(200);
    expect((await as(session, 'GET', '/api/v1/keys')).status).toBe(401);
  });

  it('refuses a change made with the cookie but without the CSRF token', async () => {
    const session = await signIn(OWNER.email, OWNER.password);
    const forged = await as(session, 'POST', '/api/v1/keys', { name: 'forged' }, false);
    expect(forged.status).toBe(403);
    expect(forged.body.error.code).toBe('csrf');
    expect((await as(session, 'POST', '/api/v1/keys', { name: 'real' })).status).toBe(201);
  });

  it('says nothing about which half was wrong, and slows down guessing', async () => {
    const unknown = await signIn('nobody@example.com', 'whatever-password');
    const wrong = await signIn(OWNER.email, 'wrong-password-1');
    expect(unknown.status).toBe(401);
    expect(wrong.status).toBe(401);
    for (let i = 0; i < 4; i++) await signIn(OWNER.email, 'wrong-password-1');
    const throttled = await signIn(OWNER.email, OWNER.password);
    expect(throttled.status).toBe(429);
  });

  it('keeps members to their own keys and usage, and viewers to reading', async () => {
    for (const [email, role] of [
      ['ada@example.com', 'member'],
      ['bob@example.com', 'member'],
      ['vic@example.com', 'viewer'],
    ]) {
      const created = await tg.admin('POST', '/api/v1/users', { email, role, password: `${email}-password` });
      expect(created.status).toBe(201);
    }
    const ada = await signIn('ada@example.com', 'ada@example.com-password');
    const bob = await signIn('bob@example.com', 'bob@example.com-password');
    const vic = await signIn('vic@example.com', 'vic@example.com-password');
    expect([ada.status, bob.status, vic.status]).toEqual([200, 200, 200]);
    // Members make keys in projects an admin has opened to them with a per-user key limit.
    expect((await tg.admin('PATCH', '/api/v1/projects/default', { keysPerUser: 3 })).status).toBe(200);

    const adaKey = await as(ada, 'POST', '/api/v1/keys', { name: 'ada-laptop' });
    expect(adaKey.status).toBe(201);
    expect(adaKey.body.ownerUserId).toBeTruthy();
    expect((await as(ada, 'POST', '/api/v1/keys', { name: 'rich', spendLimit: { allTimeUsd: 1000 } })).status).toBe(
      403,
    );

    const bobKeys = await as(bob, 'GET', '/api/v1/keys');
    expect(bobKeys.body.keys.map((key: { name: string }) => key.name)).not.toContain('ada-laptop');
    expect((await as(bob, 'GET', `/api/v1/keys/${adaKey.body.id}`)).status).toBe(404);
    expect((await as(bob, 'POST', `/api/v1/keys/${adaKey.body.id}/revoke`)).status).toBe(404);
    expect((await as(bob, 'DELETE', `/api/v1/keys/${adaKey.body.id}`)).status).toBe(404);
    expect((await as(ada, 'POST', `/api/v1/keys/${adaKey.body.id}/disable`)).body.status).toBe('disabled');

    const credential = await as(ada, 'POST', '/api/v1/credentials', {
      name: 'x',
      provider: 'openai',
      fields: { apiKey: 'sk-1234567890' },
    });
    expect(credential.status).toBe(403);
    expect(credential.body.error.code).toBe('forbidden');
    expect((await as(ada, 'GET', '/api/v1/credentials')).status).toBe(403);

    const viewerKeys = await as(vic, 'GET', '/api/v1/keys');
    expect(viewerKeys.body.keys.map((key: { name: string }) => key.name)).toContain('ada-laptop');
    expect((await as(vic, 'POST', '/api/v1/keys', { name: 'nope' })).status).toBe(403);
  });

  it('lets a one-time link create the first owner when no credentials were given', async () => {
    const fresh = await startTollgate(await backend.prepare());
    try {
      const token = fresh.tollgate.setupToken as string;
      expect(token).toBeTruthy();
      const status = await fetch(`${fresh.url}/api/auth/status`).then((response) => response.json());
      expect(status.setupRequired).toBe(true);
      const setup = (body: Record<string, string>) =>
        fetch(`${fresh.url}/api/auth/setup`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ email: 'first@example.com', password: 'first-owner-pass', ...body }),
        });
      expect((await setup({ token: 'wrong' })).status).toBe(403);
      const made = await setup({ token });
      expect(made.status).toBe(200);
      expect(made.headers.get('set-cookie')).toMatch(/^tg_session=/);
      expect((await setup({ token })).status).toBe(403);
      const after = await fetch(`${fresh.url}/api/auth/status`).then((response) => response.json());
      expect(after.setupRequired).toBe(false);
    } finally {
      await fresh.close();
    }
  });
});
