import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backends } from '../support/backends.ts';
import { asSession, signIn } from '../support/sessions.ts';
import { type RunningTollgate, startTollgate } from '../support/tollgate.ts';

/**
 * POST /api/v1/config/apply, what `tollgate apply` calls, taken on directly: only owners and
 * admins, every field held to the admin API's bounds, unknown fields refused, and a refusal
 * changes nothing — even when the bad part comes after good ones.
 */

const OWNER = { email: 'owner@example.com', password: 'owner-password-123' };
const GOOD = {
  credentials: [{ name: 'up', provider: 'openai', fields: { apiKey: 'sk-hostile', baseUrl: 'http://127.0.0.1:9/v1' } }],
  models: [{ name: 'm', targets: [{ credential: 'up', upstreamModel: 'x' }], inputPrice: 1, outputPrice: 1 }],
  projects: [{ name: 'p' }],
};

describe('the apply route under pressure', () => {
  let tg: RunningTollgate;

  beforeAll(async () => {
    tg = await startTollgate(await backends()[0]!.prepare(), {
      TOLLGATE_ADMIN_EMAIL: OWNER.email,
      TOLLGATE_ADMIN_PASSWORD: OWNER.password,
    });
  }, 60_000);
  afterAll(() => tg?.close());

  const state = async () =>
    JSON.stringify(
      await Promise.all(['credentials', 'models'].map(async (kind) => (await tg.admin('GET', `/api/v1/${kind}`)).body)),
    );

  it('admits owners and admins only', async () => {
    for (const role of ['member', 'viewer']) {
      const email = `${role}@example.com`;
      const password = `${role}-password-123`;
      expect((await tg.admin('POST', '/api/v1/users', { email, role, password })).status).toBe(201);
      const session = await signIn(tg.url, email, password);
      const answer = await asSession(tg.url, session, 'POST', '/api/v1/config/apply', { document: GOOD });
      expect(answer.status, role).toBe(403);
    }
    const anonymous = await fetch(`${tg.url}/api/v1/config/apply`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ document: GOOD }),
    });
    expect(anonymous.status).toBe(401);
    expect(await state()).toBe('[{"credentials":[]},{"models":[]}]');
  });

  it('refuses what the admin API would refuse, and unknown fields, changing nothing', async () => {
    const before = await state();
    const bad: Array<[string, unknown]> = [
      ['a 1 MB name', { projects: [{ name: 'x'.repeat(1_000_000) }] }],
      ['a NUL in a name', { ...GOOD, projects: [{ name: 'bad\u0000name' }] }],
      [
        'a lone surrogate in a setting',
        { ...GOOD, credentials: [{ ...GOOD.credentials[0], fields: { apiKey: 'k', baseUrl: 'http://\uD800' } }] },
      ],
      ['a negative price', { ...GOOD, models: [{ ...GOOD.models[0], inputPrice: -1 }] }],
      ['a price out of range', { ...GOOD, models: [{ ...GOOD.models[0], outputPrice: 1e308 }] }],
      ['a string for a number', { ...GOOD, models: [{ ...GOOD.models[0], retries: '1' }] }],
      ['an unknown field', { ...GOOD, projects: [{ name: 'p', owner: 'me' }] }],
      ['an unknown section', { ...GOOD, keys: [] }],
      ['too many objects', { projects: Array.from({ length: 1001 }, (_, i) => ({ name: `p${i}` })) }],
      ['version 2', { ...GOOD, version: 2 }],
      [
        'a metadata address',
        {
          credentials: [
            { name: 'meta', provider: 'openai', fields: { apiKey: 'k', baseUrl: 'http://169.254.169.254/v1' } },
          ],
        },
      ],
    ];
    for (const [label, document] of bad) {
      const answer = await tg.admin('POST', '/api/v1/config/apply', { document });
      expect(answer.status, label).toBe(400);
      expect(answer.body.error.code, label).toBe('invalid_request');
      expect(JSON.stringify(answer.body), label).not.toContain('sk-hostile');
    }
    expect(await state()).toBe(before);
  });

  it('refuses a whole file whose last object cannot be made, keeping none of the first', async () => {
    const before = await state();
    const document = {
      ...GOOD,
      models: [...GOOD.models, { name: 'priceless', targets: [{ credential: 'up', upstreamModel: 'unheard-of' }] }],
    };
    const answer = await tg.admin('POST', '/api/v1/config/apply', { document });
    expect(answer.status).toBe(400);
    expect(answer.body.error.message).toBe(
      'Invalid request: the configuration has one problem; nothing was changed:\n- models[1]: no price is known for openai/unheard-of: give inputPrice and outputPrice (USD per million tokens, 0 for free)',
    );
    expect(await state()).toBe(before);
    // The same without the bad model goes through, once.
    const applied = await tg.admin('POST', '/api/v1/config/apply', { document: GOOD });
    expect(applied.body.summary).toMatchObject({ create: 3 });
    expect(JSON.stringify(applied.body)).not.toContain('sk-hostile');
  });
});
