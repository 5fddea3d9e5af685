import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../support/backends.ts';
import { FakeOpenAI } from '../support/fake-openai.ts';
import { type RunningTollgate, startTollgate } from '../support/tollgate.ts';

/**
 * Every number a caller sends that reaches policy (the output cap, `n`, embeddings'
 * `dimensions`) is refused at the door unless it is a whole number in range. Before, a
 * `max_tokens` of `-1e999` (−Infinity once parsed) made the reservation −Infinity, the
 * ledger's reserved sum NaN, and every later spend check on the key passed until a restart.
 * Bodies are written as raw text: JSON.stringify cannot write `-1e999`.
 */
const SECRET = 'sk-hostile-numbers-provider-secret';
/** 10 completion tokens at $10/M and 3 prompt words at $0.10/M: one normal call. */
const CALL_COST = (3 * 0.1 + 10 * 10) / 1e6;
const MESSAGES = '[{"role":"user","content":"one two three"}]';

/** Raw JSON values that must never get past the door where a whole count is expected. */
const NOT_A_COUNT = [
  '-1',
  '0',
  '0.5',
  '2.5',
  '1e308',
  '-1e999',
  '1e999',
  '"10"',
  '"NaN"',
  '"Infinity"',
  '"1e999"',
  '[10]',
  '{}',
  'true',
];
/** Raw JSON values no number field may take: they are not finite once parsed. */
const NOT_FINITE = ['-1e999', '1e999'];

interface Door {
  path: string;
  dialect: 'openai' | 'anthropic';
  /** The rest of a valid body, as raw JSON members. */
  rest: string;
  counts: string[];
  others: string[];
}

const DOORS: Door[] = [
  {
    path: '/v1/chat/completions',
    dialect: 'openai',
    rest: `"model":"metered","messages":${MESSAGES}`,
    counts: ['max_tokens', 'max_completion_tokens', 'max_output_tokens', 'n'],
    others: ['temperature', 'top_p', 'presence_penalty', 'frequency_penalty', 'seed', 'top_logprobs'],
  },
  {
    path: '/v1/messages',
    dialect: 'anthropic',
    rest: `"model":"metered","messages":${MESSAGES}`,
    counts: ['max_tokens'],
    others: ['temperature', 'top_p', 'top_k'],
  },
  {
    path: '/v1/responses',
    dialect: 'openai',
    rest: '"model":"metered","input":"one two three"',
    counts: ['max_output_tokens'],
    others: ['temperature', 'top_p', 'top_logprobs'],
  },
  {
    path: '/v1/embeddings',
    dialect: 'openai',
    rest: '"model":"embedder","input":"one two three"',
    counts: ['dimensions'],
    others: [],
  },
];

describe('numbers a caller sends cannot switch off spend limits', () => {
  let tg: RunningTollgate;
  const provider = new FakeOpenAI(SECRET);
  let limited: { id: string; key: string };
  let unlimited: string;

  beforeAll(async () => {
    await provider.start();
    tg = await startTollgate({ dataDir: tempDir() });
    await tg.admin('POST', '/api/v1/credentials', {
      name: 'fake',
      provider: 'openai',
      fields: { apiKey: SECRET, baseUrl: provider.url },
    });
    for (const [name, upstream] of [
      ['metered', 'gpt-4o'],
      ['embedder', 'text-embedding-3-small'],
    ]) {
      const created = await tg.admin('POST', '/api/v1/models', {
        name,
        targets: [{ credential: 'fake', upstreamModel: upstream }],
        inputPrice: 0.1,
        outputPrice: 10,
      });
      expect(created.status).toBe(201);
    }
    const key = await tg.admin('POST', '/api/v1/keys', {
      name: 'limited',
      spendLimit: { allTimeUsd: 3 * CALL_COST },
    });
    expect(key.status).toBe(201);
    limited = key.body;
    unlimited = (await tg.admin('POST', '/api/v1/keys', { name: 'unlimited' })).body.key;
  }, 30_000);

  afterAll(async () => {
    await tg?.close();
    await provider.close();
  });

  async function send(path: string, body: string, key = limited.key) {
    const response = await fetch(`${tg.url}${path}`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${key}`,
        'content-type': 'application/json',
        'anthropic-version': '2023-06-01',
      },
      body,
    });
    const text = await response.text();
    return { status: response.status, headers: response.headers, text, body: JSON.parse(text) };
  }

  const normal = (max = 10) =>
    send('/v1/chat/completions', `{"model":"metered","messages":${MESSAGES},"max_tokens":${max}}`);

  /** Whether the answer is the door's 400 naming the field, in the caller's dialect. */
  function isRefusal(result: { status: number; body: any }, dialect: Door['dialect'], field: string): boolean {
    const error = result.body?.error;
    const shaped =
      dialect === 'openai'
        ? error?.type === 'invalid_request_error' && error?.code === 'invalid_request' && error?.status === 400
        : result.body?.type === 'error' && error?.type === 'invalid_request_error' && error?.code === undefined;
    return result.status === 400 && shaped && String(error?.message).includes(`"${field}"`);
  }

  it('refuses with a 400 in the caller dialect every value that is not a whole count in range', async () => {
    // Every value is sent before anything is asserted, so that the next test sees what they left.
    let sent = 0;
    const wrong: string[] = [];
    for (const door of DOORS) {
      // Anthropic requires max_tokens: the other fields are tried next to a valid one.
      const required = door.dialect === 'anthropic' ? ',"max_tokens":10' : '';
      for (const field of door.counts) {
        for (const value of NOT_A_COUNT) {
          const extra = field === 'max_tokens' ? '' : required;
          const result = await send(door.path, `{${door.rest}${extra},"${field}":${value}}`);
          sent++;
          if (!isRefusal(result, door.dialect, field)) wrong.push(`${door.path} ${field}=${value} → ${result.text}`);
        }
      }
      for (const field of door.others) {
        for (const value of NOT_FINITE) {
          const result = await send(door.path, `{${door.rest}${required},"${field}":${value}}`);
          sent++;
          if (!isRefusal(result, door.dialect, field)) wrong.push(`${door.path} ${field}=${value} → ${result.text}`);
        }
      }
    }
    expect(wrong).toEqual([]);
    expect(sent).toBeGreaterThan(80);
  });

  it('still takes null for an optional count (OpenAI SDKs send it) and in-range values', async () => {
    const chat = `{"model":"metered","messages":${MESSAGES},"max_tokens":null,"n":1}`;
    expect((await send('/v1/chat/completions', chat, unlimited)).status).toBe(200);
    const embedded = await send('/v1/embeddings', '{"model":"embedder","input":"one two","dimensions":256}', unlimited);
    expect(embedded.status).toBe(200);
  });

  it('afterwards, the spend-limited key still stops at its limit: nothing was reserved or spent', async () => {
    const outcomes = [];
    for (let i = 0; i < 6; i++) outcomes.push(await normal());
    const served = outcomes.filter((outcome) => outcome.status === 200).length;
    expect(served).toBeGreaterThanOrEqual(2);
    expect(served).toBeLessThanOrEqual(3);
    expect(outcomes.at(-1)?.status).toBe(402);
    expect(outcomes.at(-1)?.body.error.code).toBe('spend_limit_reached');
    // Nothing is still held by the refused requests: a refusal names what requests in flight hold.
    expect(outcomes.at(-1)?.body.error.message).toMatch(
      /^Spend limit reached: key "limited" has spent \$[\d.]+ of its/,
    );
    // Only what the served requests cost was spent.
    const cost = (outcome: { headers: Headers }) => Number(outcome.headers.get('x-tollgate-cost-usd') ?? 0);
    const spent = outcomes.reduce((sum, outcome) => sum + cost(outcome), 0);
    await tg.tollgate.gateway.usage.flush();
    const shown = await tg.admin('GET', `/api/v1/keys/${limited.id}`);
    expect(shown.body.spend.allTimeUsd).toBeCloseTo(spent, 12);
    expect(shown.body.spend.allTimeUsd).toBeLessThanOrEqual(3 * CALL_COST + 1e-12);
  });
});
