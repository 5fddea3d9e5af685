import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readConfig } from '../src/declarative/parse.ts';
import { backends, tempDir } from './support/backends.ts';
import { type Run, runCli } from './support/cli.ts';
import { FakeOpenAI } from './support/fake-openai.ts';
import { type RunningTollgate, startTollgate } from './support/tollgate.ts';

/**
 * A deployment kept in git: a tollgate.yaml applied at start (TOLLGATE_CONFIG) and by
 * `tollgate apply`, exported by `tollgate export`, on a real instance (PGlite, and PostgreSQL
 * when TEST_DATABASE_URL is set), with the official openai client calling a model that came
 * from the file.
 */

const SECRET_A = `sk-decl-a-${randomBytes(6).toString('hex')}`;
const SECRET_B = `sk-decl-b-${randomBytes(6).toString('hex')}`;
const MASTER_KEY = randomBytes(32).toString('hex');

/** The first file: one credential, two models, one project, the organisation's limit. */
const fileV1 = (upstream: string) => `version: 1
organization:
  spendLimit:
    recurring: { usd: 500, window: 1mo }
credentials:
  - name: upstream
    provider: openai
    fields:
      apiKey: \${DECL_UPSTREAM_KEY}
      baseUrl: ${upstream}
models:
  - name: house-gpt
    targets:
      - credential: upstream
        upstreamModel: in-house-model
    inputPrice: 1
    outputPrice: 2
  - name: extra
    targets:
      - credential: upstream
        upstreamModel: other-model
    inputPrice: 0
    outputPrice: 0
projects:
  - name: research
    plan: pro
    spendLimit: { allTimeUsd: 50 }
`;

/** The second: a new base URL and secret, a price raised, a model added, another dropped, a plan changed. */
const fileV2 = (upstream: string) =>
  fileV1(upstream)
    .replace('inputPrice: 1\n', 'inputPrice: 1.5\n')
    .replace(/ {2}- name: extra\n(?: {4}.*\n| {6}.*\n| {8}.*\n)*/, '')
    .replace(
      'projects:',
      `  - name: fresh-model
    targets:
      - credential: upstream
        upstreamModel: fresh-upstream
      - credential: upstream
        upstreamModel: fallback-upstream
        weight: 2
    inputPrice: 0.5
    outputPrice: 1
projects:`,
    )
    .replace('plan: pro', 'plan: enterprise');

describe.each(backends())('tollgate.yaml on $name', (backend) => {
  let fakeA: FakeOpenAI;
  let fakeB: FakeOpenAI;
  let tg: RunningTollgate;
  let prepared: { dataDir: string; databaseUrl?: string };
  let key = '';
  const dir = tempDir('tollgate-yaml-');
  /** Every output of every command and every log line, to check no secret ever shows. */
  const outputs: string[] = [];

  const file = (name: string, text: string) => {
    const at = path.join(dir, name);
    writeFileSync(at, text);
    return at;
  };

  async function cli(args: string[], env: Record<string, string | undefined> = {}, url = tg.url): Promise<Run> {
    const run = await runCli(url, args, env);
    outputs.push(run.stdout, run.stderr);
    return run;
  }

  /** What the admin API says of everything a file can manage, spend figures aside. */
  async function snapshot(instance = tg) {
    const get = async (resource: string) => (await instance.admin('GET', `/api/v1/${resource}`)).body;
    const { spend: _, ...organization } = await get('organization');
    return {
      organization,
      credentials: (await get('credentials')).credentials,
      models: (await get('models')).models,
      projects: (await get('projects')).projects.map(
        ({ spend: _spend, ...project }: Record<string, unknown>) => project,
      ),
    };
  }

  function client(instance = tg) {
    return new OpenAI({ apiKey: key, baseURL: `${instance.url}/v1`, maxRetries: 0 });
  }

  beforeAll(async () => {
    fakeA = await new FakeOpenAI(SECRET_A).start();
    fakeB = await new FakeOpenAI(SECRET_B).start();
    prepared = await backend.prepare();
    process.env.DECL_UPSTREAM_KEY = SECRET_A;
    tg = await startTollgate(prepared, {
      TOLLGATE_CONFIG: file('tollgate.yaml', fileV1(fakeA.url)),
      TOLLGATE_MASTER_KEY: MASTER_KEY,
    });
    // Read once, at start; each `tollgate apply` below is given its own environment.
    delete process.env.DECL_UPSTREAM_KEY;
    // Made by hand: no apply may touch them.
    await tg.admin('POST', '/api/v1/credentials', {
      name: 'by-hand',
      provider: 'openai',
      fields: { apiKey: 'sk-by-hand', baseUrl: fakeA.url },
    });
    await tg.admin('POST', '/api/v1/models', {
      name: 'manual',
      targets: [{ credential: 'by-hand', upstreamModel: 'x' }],
      inputPrice: 0,
      outputPrice: 0,
    });
    key = (await tg.admin('POST', '/api/v1/keys', { name: 'declarative', project: 'research' })).body.key;
  }, 120_000);

  afterAll(async () => {
    outputs.push(...(tg?.logs ?? []));
    await tg?.close();
    await fakeA?.close();
    await fakeB?.close();
  });

  describe('at start and by tollgate apply', { timeout: 60_000 }, () => {
    it('applies the file at start: its model answers the openai client through its credential, at its price', async () => {
      const { data, response } = await client()
        .chat.completions.create({ model: 'house-gpt', messages: [{ role: 'user', content: 'hello there' }] })
        .withResponse();
      expect(data.choices[0]?.message.content).toBe('Hello! How can I assist you today?');
      const received = fakeA.received.at(-1);
      expect(received?.headers.authorization).toBe(`Bearer ${SECRET_A}`);
      expect(received?.body.model).toBe('in-house-model');
      // 2 prompt tokens at $1 and 10 completion tokens at $2 per million.
      expect(Number(response.headers.get('x-tollgate-cost-usd'))).toBeCloseTo(22e-6, 10);
      expect(tg.logs.join('')).toMatch(/tollgate\.yaml applied: 4 created, 1 updated, 0 released, 0 deleted/);
    });

    it("marks what the file manages in the admin API's answers, and nothing else", async () => {
      const now = await snapshot();
      const managed = (list: Array<{ name: string; managedBy: string | null }>) =>
        Object.fromEntries(list.map((item) => [item.name, item.managedBy]));
      expect(managed(now.credentials)).toEqual({ 'by-hand': null, upstream: 'tollgate.yaml' });
      expect(managed(now.models)).toEqual({ extra: 'tollgate.yaml', 'house-gpt': 'tollgate.yaml', manual: null });
      expect(managed(now.projects)).toEqual({ default: null, research: 'tollgate.yaml' });
      expect(now.organization.spendLimit.recurring).toMatchObject({ usd: 500, count: 1, unit: 'month' });
    });

    it('applies the same file again and changes nothing, not even a timestamp', async () => {
      const before = await snapshot();
      const env = { DECL_UPSTREAM_KEY: SECRET_A };
      const dry = await cli(['apply', '-f', path.join(dir, 'tollgate.yaml'), '--dry-run'], env);
      expect(dry.code, dry.stderr).toBe(0);
      expect(dry.stdout).toContain('nothing was changed');
      expect(dry.stdout).toMatch(/^\s+unchanged\s+credential upstream$/m);
      expect(dry.stdout).toMatch(/\n5 unchanged\.\n$/);
      const applied = await cli(['apply', '-f', path.join(dir, 'tollgate.yaml'), '--json'], env);
      expect(applied.code, applied.stderr).toBe(0);
      expect(JSON.parse(applied.stdout).summary).toEqual({ create: 0, update: 0, unchanged: 5, release: 0, delete: 0 });
      expect(await snapshot()).toEqual(before);
    });

    it('shows a changed file as a dry run, field by field, secrets only as changed, and changes nothing', async () => {
      const before = await snapshot();
      const run = await cli(['apply', '-f', file('v2.yaml', fileV2(fakeB.url)), '--dry-run'], {
        DECL_UPSTREAM_KEY: SECRET_B,
      });
      expect(run.code, run.stderr).toBe(0);
      const lines = run.stdout.split('\n').map((line) => line.trim());
      expect(lines).toEqual(
        expect.arrayContaining([
          `Dry run of ${path.join(dir, 'v2.yaml')}: nothing was changed. Applying it would do this:`,
          'update     credential upstream',
          `fields.baseUrl: ${fakeA.url} → ${fakeB.url}`,
          'fields.apiKey: secret changed',
          'update     model house-gpt',
          'inputPrice: 1 → 1.5',
          'create     model fresh-model',
          'targets: upstream:fresh-upstream (priority 0), upstream:fallback-upstream (priority 1, weight 2)',
          'update     project research',
          'plan: pro → enterprise',
          'release    model extra (no longer in the file: left as it is and no longer managed by it (pruning deletes it))',
          '1 to create, 3 to update, 1 to release, 1 unchanged.',
        ]),
      );
      expect(await snapshot()).toEqual(before);
      await client().chat.completions.create({ model: 'house-gpt', messages: [{ role: 'user', content: 'hi' }] });
      expect(fakeA.received.at(-1)?.headers.authorization).toBe(`Bearer ${SECRET_A}`);
    });

    it('applies the changed file: the gateway follows at once, what it dropped is released, the rest untouched', async () => {
      const before = await snapshot();
      const run = await cli(['apply', '-f', path.join(dir, 'v2.yaml')], { DECL_UPSTREAM_KEY: SECRET_B });
      expect(run.code, run.stderr).toBe(0);
      expect(run.stdout).toContain('1 created, 3 updated, 1 released, 1 unchanged.');
      const { response } = await client()
        .chat.completions.create({ model: 'house-gpt', messages: [{ role: 'user', content: 'hello there' }] })
        .withResponse();
      expect(fakeB.received.at(-1)?.headers.authorization).toBe(`Bearer ${SECRET_B}`);
      expect(Number(response.headers.get('x-tollgate-cost-usd'))).toBeCloseTo(23e-6, 10);
      await client().chat.completions.create({ model: 'fresh-model', messages: [{ role: 'user', content: 'hi' }] });
      expect(fakeB.received.at(-1)?.body.model).toBe('fresh-upstream');
      const after = await snapshot();
      const byName = (list: Array<{ name: string }>, name: string) => list.find((item) => item.name === name);
      expect(byName(after.models, 'extra')).toMatchObject({ managedBy: null, inputPrice: 0 });
      for (const [kind, name] of [
        ['credentials', 'by-hand'],
        ['models', 'manual'],
        ['projects', 'default'],
      ] as const) {
        expect(byName(after[kind], name)).toEqual(byName(before[kind], name));
      }
      // Applied twice, the second time changes nothing.
      const again = await cli(['apply', '-f', path.join(dir, 'v2.yaml'), '--json'], { DECL_UPSTREAM_KEY: SECRET_B });
      expect(JSON.parse(again.stdout).summary).toEqual({ create: 0, update: 0, unchanged: 5, release: 0, delete: 0 });
      expect(await snapshot()).toEqual(after);
    });

    it('with --prune deletes what the file managed and no longer lists, never what it did not manage', async () => {
      const v3 = fileV2(fakeB.url).replace(/ {2}- name: fresh-model\n(?: {4}.*\n| {6}.*\n| {8}.*\n)*/, '');
      const run = await cli(['apply', '-f', file('v3.yaml', v3), '--prune'], { DECL_UPSTREAM_KEY: SECRET_B });
      expect(run.code, run.stderr).toBe(0);
      expect(run.stdout).toMatch(/^\s+delete\s+model fresh-model \(no longer in the file\)$/m);
      const names = (await snapshot()).models.map((model: { name: string }) => model.name);
      // extra was released earlier: no longer the file's to delete.
      expect(names).toEqual(['extra', 'house-gpt', 'manual']);
    });

    it('refuses a bad file with its line, path and reason, and changes nothing', async () => {
      const before = await snapshot();
      const good = fileV2(fakeB.url);
      const cases: Array<[string, string, Record<string, string | undefined>, string]> = [
        [
          'missing env var',
          good,
          {},
          ':9:7: credentials[0].fields.apiKey: environment variable DECL_UPSTREAM_KEY is not set',
        ],
        [
          'unknown provider',
          good.replace('provider: openai', 'provider: openia'),
          { DECL_UPSTREAM_KEY: SECRET_B },
          ':7:5: credentials[0].provider: unknown provider "openia"; known: openai,',
        ],
        [
          'negative price',
          good.replace('inputPrice: 1.5', 'inputPrice: -1.5'),
          { DECL_UPSTREAM_KEY: SECRET_B },
          ':16:5: models[0].inputPrice: must be >= 0',
        ],
        [
          'unknown field',
          good.replace('    plan: enterprise', '    plan: enterprise\n    budget: 5'),
          { DECL_UPSTREAM_KEY: SECRET_B },
          ':30:5: projects[0].budget: unknown field (the fields here are name, plan, keyLimit, keysPerUser, spendLimit)',
        ],
        [
          // Found by Tollgate, not the file's reader: placed in the file all the same.
          'model with no price known',
          good.replace('    inputPrice: 0.5\n    outputPrice: 1\n', ''),
          { DECL_UPSTREAM_KEY: SECRET_B },
          ':18:5: models[1]: no price is known for openai/fresh-upstream: give inputPrice and outputPrice',
        ],
      ];
      for (const [label, text, env, expected] of cases) {
        const at = file('bad.yaml', text);
        const run = await cli(['apply', '-f', at], env);
        expect(run.code, label).toBe(1);
        expect(run.stdout, label).toBe('');
        expect(run.stderr, label).toContain(
          `tollgate: ${at} has one problem; nothing was changed:\n  ${at}${expected}`,
        );
      }
      expect(await snapshot()).toEqual(before);
    });

    it('refuses to start on a file that cannot be applied, having applied none of it', async () => {
      const fresh = await backend.prepare();
      process.env.DECL_UPSTREAM_KEY = SECRET_A;
      const bad = file('bad-start.yaml', fileV1(fakeA.url).replace('outputPrice: 2', 'outputPrice: 2\n    retries: 9'));
      await expect(
        startTollgate(fresh, { TOLLGATE_CONFIG: bad, TOLLGATE_MASTER_KEY: MASTER_KEY }).finally(() => {
          delete process.env.DECL_UPSTREAM_KEY;
        }),
      ).rejects.toThrow(
        `TOLLGATE_CONFIG: ${bad} has one problem; nothing was changed:\n  ${bad}:18:5: models[0].retries: must be <= 5`,
      );
      const started = await startTollgate(fresh, { TOLLGATE_MASTER_KEY: MASTER_KEY });
      try {
        expect((await snapshot(started)).credentials).toEqual([]);
      } finally {
        await started.close();
      }
    });

    it('lets applies of one file race: one makes the changes, the others find none to make', async () => {
      const text = `${fileV2(fakeB.url)}  - name: raced\n    plan: free\n`;
      const { document } = readConfig(text, 'race.yaml', { DECL_UPSTREAM_KEY: SECRET_B });
      const answers = await Promise.all([0, 1, 2].map(() => tg.admin('POST', '/api/v1/config/apply', { document })));
      for (const answer of answers) expect(answer.status, JSON.stringify(answer.body)).toBe(200);
      const created = answers.map((answer) => answer.body.summary.create).sort();
      expect(created).toEqual([0, 0, 2]);
    });
  });

  describe('tollgate export', { timeout: 90_000 }, () => {
    it('writes a file that apply accepts, which round-trips through a fresh instance', async () => {
      const exported = await cli(['export']);
      expect(exported.code, exported.stderr).toBe(0);
      const text = exported.stdout;
      expect(text).toContain(`apiKey: \${UPSTREAM_API_KEY}`);
      expect(text).toContain(`apiKey: \${BY_HAND_API_KEY}`);
      expect(text).toContain('#   UPSTREAM_API_KEY  (upstream: apiKey)');
      const at = file('exported.yaml', text);
      // -o writes the same file and says which variables to set.
      const written = await cli(['export', '-o', path.join(dir, 'exported-o.yaml')]);
      expect(written.stderr).toContain('Set BY_HAND_API_KEY, UPSTREAM_API_KEY before applying it.');
      expect(readFileSync(path.join(dir, 'exported-o.yaml'), 'utf8')).toBe(text);

      const fresh = await startTollgate(await backend.prepare(), { TOLLGATE_MASTER_KEY: MASTER_KEY });
      try {
        const env = { UPSTREAM_API_KEY: SECRET_B, BY_HAND_API_KEY: 'sk-by-hand' };
        const applied = await cli(['apply', '-f', at], env, fresh.url);
        expect(applied.code, applied.stderr).toBe(0);
        const again = await cli(['export'], {}, fresh.url);
        expect(again.stdout).toBe(text);
        // Exported and applied elsewhere, the same model answers through the same upstream.
        const freshKey = (await fresh.admin('POST', '/api/v1/keys', { name: 'k', project: 'research' })).body.key;
        const reply = await new OpenAI({
          apiKey: freshKey,
          baseURL: `${fresh.url}/v1`,
          maxRetries: 0,
        }).chat.completions.create({
          model: 'house-gpt',
          messages: [{ role: 'user', content: 'hi' }],
        });
        expect(reply.choices[0]?.message.content).toBe('Hello! How can I assist you today?');
        const managed = (await snapshot(fresh)).models.map((model: { managedBy: string | null }) => model.managedBy);
        expect(new Set(managed)).toEqual(new Set(['tollgate.yaml']));
      } finally {
        outputs.push(...fresh.logs);
        await fresh.close();
      }
    });

    it('never printed a secret, in any output or log', () => {
      const everything = [...outputs, ...tg.logs].join('\n');
      for (const secret of [SECRET_A, SECRET_B, 'sk-by-hand']) expect(everything).not.toContain(secret);
    });
  });
});

describe.skipIf(!process.env.TEST_DATABASE_URL)('instances starting together with one tollgate.yaml', () => {
  it('take turns: the objects are made once, every instance starts', { timeout: 120_000 }, async () => {
    const [postgresBackend] = backends().filter((backend) => backend.name === 'postgres');
    const { databaseUrl } = await (postgresBackend as NonNullable<typeof postgresBackend>).prepare();
    const fake = await new FakeOpenAI(SECRET_A).start();
    const dir = tempDir('tollgate-yaml-race-');
    const config = path.join(dir, 'tollgate.yaml');
    writeFileSync(config, fileV1(fake.url));
    process.env.DECL_UPSTREAM_KEY = SECRET_A;
    const instances = await Promise.all(
      [0, 1, 2].map(() =>
        startTollgate(
          { dataDir: tempDir(), databaseUrl },
          { TOLLGATE_CONFIG: config, TOLLGATE_MASTER_KEY: MASTER_KEY },
        ),
      ),
    );
    try {
      const applied = instances.map((instance) => /applied: (\d+) created/.exec(instance.logs.join(''))?.[1]);
      expect(applied.sort()).toEqual(['0', '0', '4']);
      const models = (await instances[0]?.admin('GET', '/api/v1/models'))?.body.models;
      expect(models.map((model: { name: string }) => model.name)).toEqual(['extra', 'house-gpt']);
    } finally {
      delete process.env.DECL_UPSTREAM_KEY;
      await Promise.all(instances.map((instance) => instance.close()));
      await fake.close();
    }
  });
});
