import { sql } from 'drizzle-orm';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rawRows } from '../src/store/db.ts';
import { backends } from './support/backends.ts';
import { FakeOpenAI } from './support/fake-openai.ts';
import { type RunningTollgate, startTollgate } from './support/tollgate.ts';

/**
 * Spend limits spend what they allow (docs/limits-and-rules.md, "Reservations"): the tail of a
 * budget serves the last call that fits, a burst serves close to what the limit affords, and
 * for every scope the ledger's spend is the settled records plus the open reservations.
 */

const SECRET = 'sk-spend-accuracy-provider-7777';
/** One o200k token each, and one word each as the fake provider counts prompt tokens. */
const WORDS = 'time year people way day man thing woman life child world school state family student'.split(' ');
const prompt = (words: number) => Array.from({ length: words }, (_, i) => WORDS[i % WORDS.length]).join(' ');
/** $1 per million input tokens, $2 per million output tokens. */
const INPUT = 1;
const OUTPUT = 2;
/** The fake provider answers 10 completion tokens (fewer under a smaller max_tokens). */
const cost = (words: number, output = 10) => (words * INPUT + output * OUTPUT) / 1e6;

interface Outcome {
  status: number;
  cost: number;
  /** The output cap Tollgate set because the budget could not pay for more. */
  capped?: string | null;
  message?: string;
}

describe.each(backends())('spend accuracy on $name', (backend) => {
  let tg: RunningTollgate;
  const provider = new FakeOpenAI(SECRET);

  beforeAll(async () => {
    await provider.start();
    tg = await startTollgate(await backend.prepare());
    await tg.admin('POST', '/api/v1/credentials', {
      name: 'fake',
      provider: 'openai',
      fields: { apiKey: SECRET, baseUrl: provider.url },
    });
    for (const [name, upstream] of [
      ['metered', 'gpt-4o-mini'],
      ['failing', 'fail-500'],
      ['silent', 'no-usage'],
    ] as const) {
      const created = await tg.admin('POST', '/api/v1/models', {
        name,
        targets: [{ credential: 'fake', upstreamModel: upstream }],
        inputPrice: INPUT,
        outputPrice: OUTPUT,
      });
      expect(created.status, JSON.stringify(created.body)).toBe(201);
    }
  }, 60_000);
  afterAll(async () => {
    await tg?.close();
    await provider.close();
  });

  async function makeKey(body: Record<string, unknown>): Promise<{ id: string; key: string }> {
    const created = await tg.admin('POST', '/api/v1/keys', {
      name: `k-${Math.random().toString(36).slice(2, 8)}`,
      ...body,
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    return created.body;
  }

  const client = (key: string) => new OpenAI({ apiKey: key, baseURL: `${tg.url}/v1`, maxRetries: 0 });

  async function call(key: string, words: number, model = 'metered'): Promise<Outcome> {
    try {
      const { data, response } = await client(key)
        .chat.completions.create({ model, messages: [{ role: 'user', content: prompt(words) }], max_tokens: 10 })
        .withResponse();
      expect(data.usage?.prompt_tokens).toBe(words);
      return {
        status: response.status,
        cost: Number(response.headers.get('x-tollgate-cost-usd') ?? Number.NaN),
        capped: response.headers.get('x-tollgate-max-tokens'),
      };
    } catch (error) {
      if (!(error instanceof OpenAI.APIError)) throw error;
      return { status: error.status ?? 0, cost: 0, message: error.message };
    }
  }

  /** Spend as the admin API reports it (what the records and the ledger say). */
  async function keySpend(id: string): Promise<number> {
    const shown = await tg.admin('GET', `/api/v1/keys/${id}`);
    return shown.body.spend.allTimeUsd;
  }

  it('serves the tail of a budget down to the last call that fits, and refuses the next, naming the limit', async () => {
    // Room for exactly two 100-word calls ($0.00012 each) and a little more: $0.00006.
    const limit = 2 * cost(100) + 0.00006;
    const { id, key } = await makeKey({ spendLimit: { allTimeUsd: limit } });
    // The byte bound of such a call (~700 tokens, $0.00072) does not fit even the whole limit.
    const first = await call(key, 100);
    expect(first).toMatchObject({ status: 200 });
    expect(first.cost).toBeCloseTo(cost(100), 12);
    // $0.00018 left: a $0.00012 call fits (the example).
    expect(limit - first.cost).toBeCloseTo(0.00018, 12);
    expect((await call(key, 100)).status).toBe(200);
    // $0.00006 left: the next 100-word call does not fit…
    const refused = await call(key, 100);
    expect(refused.status).toBe(402);
    expect(refused.message).toMatch(
      /key "k-\w+" has spent \$0\.000240 of its \$0\.000300 all-time limit; \$0\.0000600 remains/,
    );
    // …but a 10-word call ($0.00003) still does.
    const small = await call(key, 10);
    expect(small.status).toBe(200);
    expect(small.cost).toBeCloseTo(cost(10), 12);
    const spent = await keySpend(id);
    expect(spent).toBeCloseTo(2 * cost(100) + cost(10), 12);
    expect(spent).toBeLessThanOrEqual(limit + 1e-12);
    console.info(`budget tail: spent $${spent.toFixed(6)} of $${limit.toFixed(6)} in 3 calls; 1 refused`);
  });

  it('serves close to what a limit affords under a burst of 100 concurrent calls, never more', async () => {
    // Affords 32 calls and half of another.
    const limit = 32.5 * cost(100);
    const { id, key } = await makeKey({ spendLimit: { allTimeUsd: limit } });
    const outcomes = await Promise.all(Array.from({ length: 100 }, () => call(key, 100)));
    const served = outcomes.filter((outcome) => outcome.status === 200);
    const refused = outcomes.filter((outcome) => outcome.status === 402);
    expect(served.length + refused.length).toBe(100);
    expect(served.length).toBeGreaterThanOrEqual(28);
    expect(served.length).toBeLessThanOrEqual(32);
    const spent = await keySpend(id);
    // A call served when less than its output's worth remained is capped (x-tollgate-max-tokens) and costs less.
    expect(spent).toBeCloseTo(
      served.reduce((sum, outcome) => sum + outcome.cost, 0),
      12,
    );
    expect(spent).toBeLessThanOrEqual(limit + 1e-12);
    console.info(
      `burst: ${served.length} of 100 served (${served.filter((outcome) => outcome.capped).length} with max_tokens capped) against a limit that affords 32; spent $${spent.toFixed(6)} of $${limit.toFixed(6)}`,
    );
  });

  it('keeps every scope’s spend equal to its settled records plus open reservations, through aborts and failures', async () => {
    const big = { allTimeUsd: 1000 };
    const project = await tg.admin('POST', '/api/v1/projects', { name: 'invariant', spendLimit: big });
    expect(project.status, JSON.stringify(project.body)).toBe(201);
    const user = await tg.admin('POST', '/api/v1/users', {
      email: 'spender@example.com',
      role: 'member',
      spendLimit: big,
    });
    expect(user.status, JSON.stringify(user.body)).toBe(201);
    const organization = await tg.admin('PATCH', '/api/v1/organization', { spendLimit: big });
    expect(organization.status, JSON.stringify(organization.body)).toBe(200);
    const orgId = organization.body.id as string;
    const { id: keyId, key } = await makeKey({ project: 'invariant', owner: user.body.id, spendLimit: big });
    const scopes = {
      key: `key:${keyId}`,
      user: `user:${user.body.id}`,
      project: `project:${project.body.id}`,
      org: `org:${orgId}`,
    };
    const gateway = tg.tollgate.gateway;
    /** The usage records' cost and count for one scope (all written: flush first). */
    const settledOn = async (column: string, id: string) => {
      await gateway.usage.flush();
      const [row] = await rawRows<{ total: number | string; count: number | string }>(
        tg.tollgate.store.db,
        sql`select coalesce(sum(cost_usd), 0)::float8 as total, count(*) as count from usage_records where ${sql.raw(column)} = ${id}`,
      );
      return { total: Number(row?.total ?? 0), count: Number(row?.count ?? 0) };
    };
    // The limits of users, projects and organisations reload in the background.
    await waitFor(
      () =>
        gateway.scopeLimits.get('org', orgId) !== undefined &&
        gateway.scopeLimits.get('user', user.body.id) !== undefined,
    );

    const openai = client(key);
    const finished = async () => {
      await call(key, 20);
      const stream = await openai.chat.completions.create({
        model: 'metered',
        messages: [{ role: 'user', content: prompt(30) }],
        max_tokens: 10,
        stream: true,
        stream_options: { include_usage: true },
      });
      for await (const _ of stream) {
        // read to the end
      }
    };
    const aborted = async () => {
      const controller = new AbortController();
      const stream = await openai.chat.completions.create(
        {
          model: 'metered',
          messages: [{ role: 'user', content: prompt(40) }],
          max_tokens: 10,
          stream: true,
          stream_options: { include_usage: true },
        },
        { signal: controller.signal },
      );
      try {
        for await (const _ of stream) controller.abort();
      } catch {
        // the abort, as the client sees it
      }
    };
    const failed = async () => {
      expect((await call(key, 25, 'failing')).status).toBeGreaterThanOrEqual(500);
    };
    const silent = async () => {
      const stream = await openai.chat.completions.create({
        model: 'silent',
        messages: [{ role: 'user', content: prompt(15) }],
        max_tokens: 10,
        stream: true,
        stream_options: { include_usage: true },
      });
      for await (const _ of stream) {
        // no usage comes
      }
    };

    // While requests are in flight, every reservation is held on all four scopes at once, and what
    // the key settles is settled on its user, project and organisation too (the organisation had
    // spent `orgBefore` before: the earlier tests' keys).
    const orgBefore = gateway.ledger.peek(scopes.org)?.allTimeSpent ?? (await settledOn('org_id', orgId)).total;
    let samples = 0;
    let heldSeen = 0;
    const mismatches: string[] = [];
    const sampler = setInterval(() => {
      const [k, u, p, o] = [scopes.key, scopes.user, scopes.project, scopes.org].map((id) => gateway.ledger.peek(id));
      if (!k || !u || !p || !o) return;
      samples += 1;
      if (k.reserved > 0) heldSeen += 1;
      const same = (a: number, b: number) => Math.abs(a - b) < 1e-12;
      if (![u, p, o].every((c) => same(c.reserved, k.reserved)) || k.reserved < 0)
        mismatches.push(`held ${[k, u, p, o].map((c) => c.reserved).join(' / ')}`);
      if (
        !same(u.allTimeSpent, k.allTimeSpent) ||
        !same(p.allTimeSpent, k.allTimeSpent) ||
        !same(o.allTimeSpent - orgBefore, k.allTimeSpent)
      )
        mismatches.push(`spent ${[k, u, p, o].map((c) => c.allTimeSpent).join(' / ')}`);
    }, 2);
    provider.chunkDelayMs = 20;
    try {
      await Promise.all([finished(), aborted(), failed(), silent(), aborted(), finished(), failed(), aborted()]);
      // Aborted requests end on the server after the client has gone: wait until nothing is held.
      await waitFor(() => Object.values(scopes).every((id) => gateway.ledger.peek(id)?.reserved === 0));
    } finally {
      provider.chunkDelayMs = 0;
      clearInterval(sampler);
    }
    expect(mismatches).toEqual([]);
    expect(heldSeen).toBeGreaterThan(0);
    await gateway.usage.flush();

    const settled = settledOn;
    const records = {
      key: await settled('key_id', keyId),
      user: await settled('user_id', user.body.id),
      project: await settled('project_id', project.body.id),
      org: await settled('org_id', orgId),
    };
    expect(records.key.count).toBe(10);
    for (const [kind, id] of Object.entries(scopes) as Array<[keyof typeof scopes, string]>) {
      const counters = gateway.ledger.peek(id);
      expect(counters, kind).toBeDefined();
      expect(counters?.reserved, kind).toBe(0);
      expect(counters?.allTimeSpent, kind).toBeCloseTo(records[kind].total, 12);
    }
    const rows = await rawRows<{ status: number }>(
      tg.tollgate.store.db,
      sql`select status from usage_records where key_id = ${keyId} order by status`,
    );
    console.info(
      `invariant: ${samples} samples in flight (${heldSeen} holding a reservation), ${rows.length} records (${rows.map((row) => row.status).join(', ')}); key spent $${records.key.total.toFixed(6)}, org $${records.org.total.toFixed(6)}`,
    );
  }, 30_000);
});

async function waitFor(condition: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('timed out waiting for a condition');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
