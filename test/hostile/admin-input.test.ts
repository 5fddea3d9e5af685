import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backends } from '../support/backends.ts';
import { ADMIN_TOKEN, type RunningTollgate, startTollgate } from '../support/tollgate.ts';

/**
 * Hostile input to every stored field of the admin API: text the database cannot store (NUL,
 * lone surrogates), text far too long, and numbers out of every range, of the wrong type, or
 * beyond what JSON numbers can hold. None may answer 500, and a refusal must change nothing.
 */

const NUM = '"__number__"';
/** A JSON body with `value` spliced in as raw JSON text (so `-1e999` and `1e308` arrive as written). */
function rawBody(body: unknown, value: string): string {
  return JSON.stringify(body).replace(NUM, value);
}

/** `set(['a', 'b'], v)` → `{ a: { b: v } }`; numeric segments make arrays. */
function nested(path: Array<string | number>, value: unknown, base: Record<string, unknown> = {}): unknown {
  const [head, ...rest] = path;
  if (head === undefined) return value;
  const copy: any = Array.isArray(base) ? [...base] : { ...base };
  copy[head] = nested(rest, value, (copy[head] as Record<string, unknown>) ?? (typeof rest[0] === 'number' ? [] : {}));
  return copy;
}

const HOSTILE_TEXT: Array<[string, string]> = [
  ['a NUL character', 'bad\u0000name'],
  ['a lone high surrogate', 'bad\uD800name'],
  ['a lone low surrogate', 'bad\uDC00name'],
  ['a megabyte', 'x'.repeat(1024 * 1024)],
];
/** Numbers no field takes, as raw JSON. */
const HOSTILE_NUMBERS = ['-1', '1e308', '-1e999', '1e999', '"5"', '[5]', '{}', 'true'];

describe('hostile input to the admin API', () => {
  let tg: RunningTollgate;

  async function send(method: string, path: string, body?: string) {
    const response = await fetch(`${tg.url}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${ADMIN_TOKEN}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body,
    });
    const text = await response.text();
    return { status: response.status, body: text ? JSON.parse(text) : undefined };
  }

  /** What the API shows of an object, minus what changes without a request (spend reports). */
  async function state(path: string) {
    const shown = await send('GET', path);
    expect(shown.status).toBe(200);
    const { spend: _spend, usage: _usage, ...rest } = shown.body;
    return rest;
  }

  beforeAll(async () => {
    tg = await startTollgate(await backends()[0]!.prepare());
    expect((await tg.admin('POST', '/api/v1/projects', { name: 'p1' })).status).toBe(201);
    const credential = await tg.admin('POST', '/api/v1/credentials', {
      name: 'c1',
      provider: 'openai',
      fields: { apiKey: 'sk-test-1234567890' },
    });
    expect(credential.status).toBe(201);
    const model = await tg.admin('POST', '/api/v1/models', {
      name: 'm1',
      targets: [{ credential: 'c1', upstreamModel: 'gpt-4o-mini' }],
      inputPrice: 1,
      outputPrice: 2,
    });
    expect(model.status).toBe(201);
    expect((await tg.admin('POST', '/api/v1/users', { email: 'u1@example.com', role: 'member' })).status).toBe(201);
    const key = await tg.admin('POST', '/api/v1/keys', { name: 'k1', project: 'p1' });
    expect(key.status).toBe(201);
    keyId = key.body.id;
  }, 60_000);
  afterAll(() => tg?.close());

  let keyId = '';

  /** Every change route, the object it changes, and its stored text and number fields. */
  const targets = () => [
    {
      path: '/api/v1/projects/p1',
      show: '/api/v1/projects/p1',
      text: [['name'], ['spendLimit', 'recurring', 'window']],
      numbers: [['keyLimit'], ['keysPerUser'], ['spendLimit', 'allTimeUsd'], ['spendLimit', 'recurring', 'usd']],
      integers: [['keyLimit'], ['keysPerUser']],
      base: { spendLimit: { recurring: { usd: 1, window: '1d' } } },
    },
    {
      path: `/api/v1/keys/${keyId}`,
      show: `/api/v1/keys/${keyId}`,
      text: [['name'], ['metadata', 'team'], ['rules', 'allowModels', 0], ['expiresAt']],
      numbers: [
        ['rateLimits', 'rpm'],
        ['rateLimits', 'tpm'],
        ['rateLimits', 'maxParallel'],
        ['rules', 'maxInputPrice'],
        ['rules', 'maxOutputPrice'],
        ['spendLimit', 'allTimeUsd'],
      ],
      integers: [
        ['rateLimits', 'rpm'],
        ['rateLimits', 'tpm'],
        ['rateLimits', 'maxParallel'],
      ],
      base: {},
    },
    {
      path: '/api/v1/models/m1',
      show: '/api/v1/models/m1',
      text: [['name'], ['targets', 0, 'upstreamModel'], ['targets', 0, 'credential']],
      numbers: [
        ['inputPrice'],
        ['outputPrice'],
        ['cachedInputPrice'],
        ['cacheWriteInputPrice'],
        ['cacheWrite1hInputPrice'],
        ['retries'],
        ['maxOutputTokens'],
        ['targets', 0, 'weight'],
        ['targets', 0, 'priority'],
        ['targets', 0, 'timeoutMs'],
      ],
      integers: [['retries'], ['maxOutputTokens'], ['targets', 0, 'weight'], ['targets', 0, 'priority']],
      base: { targets: [{ credential: 'c1', upstreamModel: 'gpt-4o-mini' }] },
    },
    {
      path: '/api/v1/credentials/c1',
      show: '/api/v1/credentials/c1',
      text: [['name'], ['fields', 'apiKey'], ['fields', 'baseUrl']],
      numbers: [],
      integers: [],
      base: {},
    },
    {
      path: '/api/v1/users/u1@example.com',
      show: '/api/v1/users/u1@example.com',
      text: [['name'], ['password']],
      numbers: [['spendLimit', 'allTimeUsd']],
      integers: [],
      base: {},
    },
    {
      path: '/api/v1/organization',
      show: '/api/v1/organization',
      text: [['name']],
      numbers: [['spendLimit', 'allTimeUsd']],
      integers: [],
      base: {},
    },
  ];

  it('refuses text the database cannot store, or too long, in every stored field: 400 and nothing changes', async () => {
    for (const target of targets()) {
      for (const field of target.text) {
        for (const [label, text] of HOSTILE_TEXT) {
          const before = await state(target.show);
          const body = nested(field, text, target.base as Record<string, unknown>);
          const answer = await send('PATCH', target.path, JSON.stringify(body));
          expect({ target: target.path, field, label, status: answer.status }).toEqual({
            target: target.path,
            field,
            label,
            status: 400,
          });
          expect(answer.body.error.code).toBe('invalid_request');
          expect(await state(target.show)).toEqual(before);
        }
      }
    }
  }, 120_000);

  it('refuses such text in object keys (metadata, credential fields) too', async () => {
    const before = await state(`/api/v1/keys/${keyId}`);
    for (const key of ['bad\u0000key', 'bad\uD800key', 'k'.repeat(10_000)]) {
      const answer = await send('PATCH', `/api/v1/keys/${keyId}`, JSON.stringify({ metadata: { [key]: 'x' } }));
      expect(answer.status).toBe(400);
    }
    expect(await state(`/api/v1/keys/${keyId}`)).toEqual(before);
    const credential = await send(
      'PATCH',
      '/api/v1/credentials/c1',
      JSON.stringify({ fields: { 'api\u0000Key': 'x' } }),
    );
    expect(credential.status).toBe(400);
  });

  it('refuses hostile text when creating, and creates nothing', async () => {
    const creations: Array<[string, string, (text: string) => unknown]> = [
      ['/api/v1/projects', '/api/v1/projects', (text) => ({ name: text })],
      ['/api/v1/keys', '/api/v1/keys', (text) => ({ name: 'k2', metadata: { note: text } })],
      ['/api/v1/keys', '/api/v1/keys', (text) => ({ name: text })],
      [
        '/api/v1/models',
        '/api/v1/models',
        (text) => ({ name: 'm2', targets: [{ credential: 'c1', upstreamModel: text }], inputPrice: 0, outputPrice: 0 }),
      ],
      [
        '/api/v1/credentials',
        '/api/v1/credentials',
        (text) => ({ name: 'c2', provider: 'openai', fields: { apiKey: text } }),
      ],
      ['/api/v1/users', '/api/v1/users', (text) => ({ email: 'u2@example.com', name: text, role: 'member' })],
    ];
    for (const [path, list, body] of creations) {
      const before = (await send('GET', list)).body;
      for (const [label, text] of HOSTILE_TEXT) {
        const answer = await send('POST', path, JSON.stringify(body(text)));
        expect({ path, label, status: answer.status }).toEqual({ path, label, status: 400 });
      }
      expect(strip((await send('GET', list)).body)).toEqual(strip(before));
    }
  });

  it('keeps right-to-left marks and other legitimate Unicode exactly as sent', async () => {
    const name = 'مشروع\u200F\u202Eabc\u202C 🎉';
    const project = await send('POST', '/api/v1/projects', JSON.stringify({ name }));
    expect(project.status).toBe(201);
    expect(project.body.name).toBe(name);
    const key = await send('PATCH', `/api/v1/keys/${keyId}`, JSON.stringify({ metadata: { note: name } }));
    expect(key.status).toBe(200);
    expect((await state(`/api/v1/keys/${keyId}`)).metadata).toEqual({ note: name });
  });

  it('takes right-to-left marks in every stored field without a 500, and changes nothing when it refuses', async () => {
    for (const target of targets()) {
      for (const field of target.text) {
        const before = await state(target.show);
        const value =
          field.join('.') === 'expiresAt' ? '\u200F2099-01-01T00:00:00Z' : `rtl\u200F\u202Evalue${field.length}`;
        const body = nested(field, value, target.base as Record<string, unknown>);
        const answer = await send('PATCH', target.path, JSON.stringify(body));
        expect({ target: target.path, field, ok: answer.status < 500 }).toEqual({
          target: target.path,
          field,
          ok: true,
        });
        if (answer.status >= 400) expect(await state(target.show)).toEqual(before);
        // Renamed objects are found by their new name from here on: put the name back.
        if (
          answer.status === 200 &&
          field.join('.') === 'name' &&
          /\/(projects|models|credentials)\//.test(target.path)
        ) {
          const back = target.path.split('/').at(-1) as string;
          const renamed = target.path.replace(/[^/]+$/, encodeURIComponent(answer.body.name));
          expect((await send('PATCH', renamed, JSON.stringify({ name: back }))).status).toBe(200);
        }
      }
    }
  });

  it('refuses every number out of range or of the wrong type in every numeric field: 400 and nothing changes', async () => {
    for (const target of targets()) {
      for (const field of target.numbers) {
        const integer = target.integers.some((candidate) => candidate.join('.') === field.join('.'));
        for (const value of [...HOSTILE_NUMBERS, ...(integer ? ['0.5', '1.5'] : [])]) {
          const before = await state(target.show);
          const body = rawBody(nested(field, '__number__', target.base as Record<string, unknown>), value);
          const answer = await send('PATCH', target.path, body);
          expect({ target: target.path, field, value, status: answer.status }).toEqual({
            target: target.path,
            field,
            value,
            status: 400,
          });
          expect(await state(target.show)).toEqual(before);
        }
      }
    }
  }, 120_000);

  it('never answers 500 for zero in a numeric field', async () => {
    for (const target of targets()) {
      for (const field of target.numbers) {
        const answer = await send(
          'PATCH',
          target.path,
          rawBody(nested(field, '__number__', target.base as Record<string, unknown>), '0'),
        );
        expect({ field, status: answer.status < 500 }).toEqual({ field, status: true });
      }
    }
  });

  it('refuses a key limit of 1e308 on a new project and creates none', async () => {
    const before = (await send('GET', '/api/v1/projects')).body.projects.length;
    for (const value of ['1e308', '1e10', '2147483648', '-1e999']) {
      const answer = await send('POST', '/api/v1/projects', rawBody({ name: 'huge', keyLimit: '__number__' }, value));
      expect({ value, status: answer.status }).toEqual({ value, status: 400 });
    }
    expect((await send('GET', '/api/v1/projects')).body.projects.length).toBe(before);
  });

  it('refuses hostile numbers in the rotation grace period', async () => {
    for (const value of HOSTILE_NUMBERS) {
      const answer = await send('POST', `/api/v1/keys/${keyId}/rotate`, rawBody({ graceSeconds: '__number__' }, value));
      expect({ value, status: answer.status }).toEqual({ value, status: 400 });
    }
  });

  it('refuses times and counts out of range in usage queries with 400', async () => {
    const queries = [
      'since=99999999999999d',
      'since=9999999999999999999999w',
      'until=99999999999999d',
      'since=-271821-04-20T00:00:00Z',
      'since=%2B275760-09-13T00:00:00Z',
      'since=1e308',
      'status=1e308',
      'limit=1e308',
      'cursor=1e308',
      'cursor=-1',
      `project=${'p'.repeat(1000)}`,
      'project=p%00',
      'since=2024-01-01T00:00:00Z%00',
    ];
    const only: Record<string, string[]> = {
      'limit=': ['/api/v1/usage', '/api/v1/usage/top?by=model'],
      'cursor=': ['/api/v1/usage'],
    };
    for (const path of ['/api/v1/usage', '/api/v1/usage/series', '/api/v1/usage/top?by=model']) {
      for (const query of queries) {
        const [name = ''] = query.split('=');
        if (only[`${name}=`] && !only[`${name}=`]?.includes(path)) continue;
        const separator = path.includes('?') ? '&' : '?';
        const answer = await send('GET', `${path}${separator}${query}`);
        expect({ path, query, status: answer.status }).toEqual({ path, query, status: 400 });
      }
    }
  });

  it('refuses unstorable text in path parameters with 400, not 500', async () => {
    for (const path of [
      '/api/v1/projects/p%00',
      '/api/v1/users/u1%00@example.com',
      '/api/v1/models/m%00',
      '/api/v1/credentials/c%00',
    ]) {
      const answer = await send('GET', path);
      expect({ path, status: answer.status }).toEqual({ path, status: 400 });
    }
    // The router itself refuses parameters over 100 characters (not found).
    const long = await send('GET', `/api/v1/projects/${'p'.repeat(2000)}`);
    expect([400, 404]).toContain(long.status);
  });

  it('refuses unstorable text at sign-in with 400, not 500', async () => {
    for (const email of ['owner\u0000@example.com', 'owner\uD800@example.com']) {
      const response = await fetch(`${tg.url}/api/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ email, password: 'whatever-password' }),
      });
      expect(response.status).toBe(400);
    }
  });
});

/** A listing without its spend reports and times that move by themselves. */
function strip(body: Record<string, unknown>): unknown {
  return JSON.parse(JSON.stringify(body), (key, value) => (key === 'spend' ? undefined : value));
}
