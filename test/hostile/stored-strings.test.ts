import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rawRows } from '../../src/store/db.ts';
import { tempDir } from '../support/backends.ts';
import { FakeOpenAI } from '../support/fake-openai.ts';
import { type RunningTollgate, startTollgate } from '../support/tollgate.ts';

/**
 * Strings a caller sends that end up in a usage record (the model asked for) or are kept as
 * the caller's identity (`user`, `metadata`) must be storable in PostgreSQL: no NUL, no
 * unpaired UTF-16 surrogate, a bounded length. Before, a model name with `\u0000` was
 * "not found" (404), and its usage record could not be inserted.
 */
const SECRET = 'sk-hostile-strings-provider-secret';
const MESSAGES = [{ role: 'user', content: 'one two three' }];

const BAD_STRINGS: Array<[string, string]> = [
  ['a NUL character', 'gpt\u0000-4o'],
  ['a lone high surrogate', 'gpt-4o\uD800'],
  ['a lone low surrogate', '\uDC00gpt-4o'],
  ['reversed surrogates', 'gpt\uDC00\uD800'],
];

describe('strings that get stored', () => {
  let tg: RunningTollgate;
  const provider = new FakeOpenAI(SECRET);
  let key: string;

  beforeAll(async () => {
    await provider.start();
    tg = await startTollgate({ dataDir: tempDir() });
    await tg.admin('POST', '/api/v1/credentials', {
      name: 'fake',
      provider: 'openai',
      fields: { apiKey: SECRET, baseUrl: provider.url },
    });
    const model = await tg.admin('POST', '/api/v1/models', {
      name: 'gpt-4o',
      targets: [{ credential: 'fake', upstreamModel: 'gpt-4o' }],
    });
    expect(model.status).toBe(201);
    key = (await tg.admin('POST', '/api/v1/keys', { name: 'strings' })).body.key;
  }, 30_000);

  afterAll(async () => {
    await tg?.close();
    await provider.close();
  });

  async function send(path: string, body: Record<string, unknown>) {
    const response = await fetch(`${tg.url}${path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    return { status: response.status, body: (await response.json()) as any };
  }

  const chat = (extra: Record<string, unknown>) =>
    send('/v1/chat/completions', { model: 'gpt-4o', messages: MESSAGES, ...extra });
  const messages = (extra: Record<string, unknown>) =>
    send('/v1/messages', { model: 'gpt-4o', max_tokens: 10, messages: MESSAGES, ...extra });
  const embeddings = (extra: Record<string, unknown>) =>
    send('/v1/embeddings', { model: 'gpt-4o', input: 'one two', ...extra });

  function openAIRefusal(result: { status: number; body: any }, field: string) {
    expect(result.status).toBe(400);
    expect(result.body.error).toMatchObject({ type: 'invalid_request_error', code: 'invalid_request', status: 400 });
    expect(result.body.error.message).toContain(`"${field}"`);
  }

  function anthropicRefusal(result: { status: number; body: any }, field: string) {
    expect(result.status).toBe(400);
    expect(result.body).toMatchObject({ type: 'error', error: { type: 'invalid_request_error' } });
    expect(result.body.error.message).toContain(`"${field}"`);
  }

  it.each(BAD_STRINGS)('refuses a model name with %s at every door', async (_name, model) => {
    openAIRefusal(await chat({ model }), 'model');
    openAIRefusal(await embeddings({ model }), 'model');
    anthropicRefusal(await messages({ model }), 'model');
  });

  it.each(BAD_STRINGS)('refuses an end-user id with %s', async (_name, value) => {
    openAIRefusal(await chat({ user: value }), 'user');
    openAIRefusal(await chat({ metadata: { team: value } }), 'metadata.team');
    openAIRefusal(await embeddings({ user: value }), 'user');
    anthropicRefusal(await messages({ metadata: { user_id: value } }), 'metadata.user_id');
  });

  it('refuses a model name longer than 256 characters, and a user id longer than 512', async () => {
    openAIRefusal(await chat({ model: 'm'.repeat(257) }), 'model');
    anthropicRefusal(await messages({ model: 'm'.repeat(257) }), 'model');
    openAIRefusal(await chat({ user: 'u'.repeat(513) }), 'user');
    // At the bound, a name is simply not found.
    expect((await chat({ model: 'm'.repeat(256) })).status).toBe(404);
  });

  it('still serves well-formed names, including astral characters, and stores every record', async () => {
    expect((await chat({ user: 'ünïcødé 🦜' })).status).toBe(200);
    expect((await messages({ metadata: { user_id: 'user-🦜' } })).status).toBe(200);
    await tg.tollgate.gateway.usage.flush();
    const rows = await rawRows<{ model: string | null }>(
      tg.tollgate.store.db,
      sql`select model from usage_records where length(model) > 256`,
    );
    expect(rows).toEqual([]);
    expect(tg.logs.filter((line) => line.includes('could not be written'))).toEqual([]);
  });
});
