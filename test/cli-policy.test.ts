import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from './support/backends.ts';
import { parseJsonRun, type Run, runCli } from './support/cli.ts';
import { FakeOpenAI } from './support/fake-openai.ts';
import { type RunningTollgate, startTollgate } from './support/tollgate.ts';

const SECRET = 'sk-cli-policy-secret';
const DAY = 86_400_000;

let tollgate: RunningTollgate;
let fake: FakeOpenAI;

const cli = (args: string[]): Promise<Run> => runCli(tollgate.url, args);

async function json<T = any>(args: string[]): Promise<T> {
  return parseJsonRun<T>(await cli([...args, '--json']));
}

function chat(key: string, model = 'gpt-test'): Promise<Response> {
  return fetch(`${tollgate.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model, messages: [{ role: 'user', content: 'hello' }], max_tokens: 10 }),
  });
}

beforeAll(async () => {
  fake = await new FakeOpenAI(SECRET).start();
  tollgate = await startTollgate({ dataDir: tempDir() });
  const credential = await tollgate.admin('POST', '/api/v1/credentials', {
    name: 'fake',
    provider: 'openai',
    fields: { apiKey: SECRET, baseUrl: fake.url },
  });
  expect(credential.status).toBe(201);
  for (const [name, price] of [
    ['gpt-test', 0.15],
    ['other', 0.15],
    ['free-test', 0],
  ] as const) {
    const model = await tollgate.admin('POST', '/api/v1/models', {
      name,
      targets: [{ credential: 'fake', upstreamModel: 'gpt-4o-mini' }],
      inputPrice: price,
      outputPrice: price * 4,
    });
    expect(model.status).toBe(201);
  }
}, 60_000);

afterAll(async () => {
  await tollgate?.close();
  await fake?.close();
});

describe('tollgate CLI: limits, rules and plans', { timeout: 30_000 }, () => {
  let keyId = '';
  let key = '';

  it('creates a key with spend limits, rules and a rate limit that keys show --json reflects', async () => {
    const created = await json([
      'keys',
      'create',
      '--name',
      'budgeted',
      '--limit',
      '5',
      '--recurring-limit',
      '1',
      '--window',
      '1d',
      '--allow-models',
      'gpt-test*',
      '--rpm',
      '60',
    ]);
    keyId = created.id;
    key = created.key;

    const shown = await json(['keys', 'show', keyId]);
    expect(shown.spendLimit).toMatchObject({ allTimeUsd: 5, recurring: { usd: 1, count: 1, unit: 'day' } });
    expect(shown.rules).toEqual({ allowModels: ['gpt-test*'] });
    expect(shown.hasRules).toBe(true);
    expect(shown.rateLimits).toEqual({ rpm: 60 });
    const { start, end } = shown.spend.period;
    expect(Date.parse(end) - Date.parse(start)).toBe(DAY);

    // The rules are in force at the gateway.
    expect((await chat(key)).status).toBe(200);
    const denied = await chat(key, 'other');
    expect(denied.status).toBe(403);
    expect((await denied.json()).error.message).toBe('Access denied: Model other is not in the allowed models list');
  });

  it('shows spend this period, its reset, the rules and the rate limits; keys list shows spend and a rules badge', async () => {
    const [show, list] = await Promise.all([cli(['keys', 'show', 'budgeted']), cli(['keys', 'list'])]);
    expect(show.code).toBe(0);
    expect(show.stdout).toMatch(/Spend limit\s*│\s*\$5\.00 all time; \$1\.00 per 1 day/);
    expect(show.stdout).toMatch(/Spent this period\s*│\s*\$0\.0\d+ of \$1\.00 \(\S+ → \S+\)/);
    expect(show.stdout).toMatch(/Period resets\s*│\s*\d{4}-\d\d-\d\dT/);
    expect(show.stdout).toMatch(/Rules\s*│\s*allow models: gpt-test\*/);
    expect(show.stdout).toMatch(/Rate limits\s*│\s*60 requests\/min/);
    expect(list.code).toBe(0);
    expect(list.stdout).toMatch(/budgeted.*│\s*\$0\.0\d+ \/ \$5\.00\s*│\s*rules\s*│/);
    expect(list.stdout).toMatch(/\$0\.0\d+ \/ \$1\.00 per 1d/);
  });

  it('merges rule options into the rules a key has, and clears them with --clear-rules', async () => {
    const merged = await json([
      'keys',
      'update',
      keyId,
      '--deny-providers',
      'anthropic',
      '--max-input-price',
      '5',
      '--recurring-limit',
      '2',
    ]);
    expect(merged.rules).toEqual({ allowModels: ['gpt-test*'], denyProviders: ['anthropic'], maxInputPrice: 5 });
    // Only the amount changed: the window stays the one it was.
    expect(merged.spendLimit.recurring).toMatchObject({ usd: 2, count: 1, unit: 'day' });

    const cleared = await json(['keys', 'update', keyId, '--clear-rules', '--free-only', '--rpm', 'none']);
    expect(cleared.rules).toEqual({ allowPricing: ['free'] });
    expect(cleared.rateLimits).toEqual({});
    expect(cleared.spendLimit).toMatchObject({ allTimeUsd: 5, recurring: { usd: 2 } });
  });

  it('rotates a key with a grace period: prints the new key once, and both keys work meanwhile', async () => {
    const run = await cli(['keys', 'rotate', keyId, '--grace', '24h']);
    expect(run.code).toBe(0);
    const fresh = /\b(tg_\S+)/.exec(run.stdout)?.[1] ?? '';
    expect(fresh).not.toBe('');
    expect(fresh).not.toBe(key);
    expect(run.stdout).toContain('will not be shown again');
    const until = /keeps working until (\S+)\./.exec(run.stdout)?.[1] ?? '';
    expect(Math.abs(Date.parse(until) - Date.now() - DAY)).toBeLessThan(60_000);
    // The key is on free models only now (see above).
    expect((await chat(fresh, 'free-test')).status).toBe(200);
    expect((await chat(key, 'free-test')).status).toBe(200);
    expect((await chat(fresh)).status).toBe(403);
  });

  it('refuses bad limit values before calling the API, with exit code 1', async () => {
    const [window, noWindow, rpm] = await Promise.all([
      cli(['keys', 'create', '--name', 'x', '--recurring-limit', '1', '--window', '13mo']),
      cli(['keys', 'create', '--name', 'x', '--recurring-limit', '1']),
      cli(['keys', 'create', '--name', 'x', '--rpm', '0']),
    ]);
    expect(window).toMatchObject({ code: 1, stdout: '' });
    expect(window.stderr).toContain('A window must be from 1 hour to 12 months');
    expect(noWindow).toMatchObject({ code: 1, stdout: '' });
    expect(noWindow.stderr).toBe(
      'tollgate: --recurring-limit needs --window, e.g. --recurring-limit 50 --window 1mo\n',
    );
    expect(rpm).toMatchObject({ code: 1, stdout: '' });
    expect(rpm.stderr).toContain('Expected a whole number, 1 or more, or "none".');
    const { keys } = (await tollgate.admin('GET', '/api/v1/keys')).body;
    expect(keys.map((k: { name: string }) => k.name)).not.toContain('x');
  });

  it('adds users and lists them with their limits; a key may name its owner by email', async () => {
    const created = await json(['users', 'create', '--email', 'Ann@Example.com', '--role', 'admin', '--limit', '50']);
    expect(created).toMatchObject({ email: 'ann@example.com', role: 'admin', spendLimit: { allTimeUsd: 50 } });

    const [list, owned] = await Promise.all([
      cli(['users', 'list']),
      json(['keys', 'create', '--name', 'anns-key', '--owner', 'ann@example.com']),
    ]);
    expect(list.code).toBe(0);
    expect(list.stdout).toMatch(/ann@example\.com\s*│.*│\s*admin\s*│\s*\$0\.00 \/ \$50\.00/);
    expect(owned.ownerUserId).toBe(created.id);
  });

  it('sets the organisation-wide limits with org update', async () => {
    const org = await json(['org', 'update', '--limit', '1000', '--recurring-limit', '100', '--window', '1mo']);
    expect(org.spendLimit).toMatchObject({ allTimeUsd: 1000, recurring: { usd: 100, count: 1, unit: 'month' } });
    // The window starts when the limit is set: earlier spend counts all time, not in this period.
    expect(org.spend.allTimeUsd).toBeGreaterThan(0);
    expect(org.spend.period.spentUsd).toBe(0);
  });
});
