import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from './support/backends.ts';
import { parseJsonRun, type Run, runCli } from './support/cli.ts';
import { FakeOpenAI } from './support/fake-openai.ts';
import { type RunningTollgate, startTollgate } from './support/tollgate.ts';

const SECRET = 'sk-test-secret';

let tollgate: RunningTollgate;
let fake: FakeOpenAI;
/** Every output of every CLI run, to check that the provider secret never shows. */
const outputs: string[] = [];

/** Runs the real `tollgate` command; every output is kept to check the secret never shows. */
async function cli(args: string[], env: Record<string, string | undefined> = {}): Promise<Run> {
  const run = await runCli(tollgate.url, args, env);
  outputs.push(run.stdout, run.stderr);
  return run;
}

async function json<T = any>(args: string[]): Promise<T> {
  return parseJsonRun<T>(await cli([...args, '--json']));
}

function chat(key: string): Promise<Response> {
  return fetch(`${tollgate.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'gpt-test', messages: [{ role: 'user', content: 'hello there' }] }),
  });
}

async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

beforeAll(async () => {
  fake = await new FakeOpenAI(SECRET).start();
  tollgate = await startTollgate({ dataDir: tempDir() });
}, 60_000);

afterAll(async () => {
  await tollgate?.close();
  await fake?.close();
});

describe('tollgate CLI', { timeout: 30_000 }, () => {
  let keyId = '';
  let key = '';

  it('stores a credential and lists it with the secret masked', async () => {
    const created = await cli([
      'credentials',
      'create',
      '--name',
      'fake',
      '--provider',
      'openai',
      '--base-url',
      fake.url,
      '--api-key',
      SECRET,
    ]);
    expect(created.code).toBe(0);
    expect(created.stdout).toContain('Created credential "fake"');

    const list = await cli(['credentials', 'list']);
    expect(list.code).toBe(0);
    expect(list.stdout).toMatch(/fake.*openai/);
    expect(list.stdout).toContain('apiKey: sk-••••cret');

    const { credentials } = await json(['credentials', 'list']);
    expect(credentials).toHaveLength(1);
    expect(credentials[0]).toMatchObject({ name: 'fake', secrets: { apiKey: 'sk-••••cret' } });
  });

  it("takes each provider's fields as named flags (Azure with Entra ID here)", async () => {
    const azure = await json([
      'credentials',
      'create',
      '--name',
      'azure-entra',
      '--provider',
      'azure',
      '--auth-method',
      'entra',
      '--endpoint',
      'https://example.openai.azure.com',
      '--api-version',
      '2024-10-21',
      '--tenant-id',
      'tenant-1',
      '--client-id',
      'client-1',
      '--client-secret',
      'azure-client-secret-value',
    ]);
    expect(azure).toMatchObject({
      authMethod: 'entra',
      settings: {
        endpoint: 'https://example.openai.azure.com',
        apiVersion: '2024-10-21',
        tenantId: 'tenant-1',
        clientId: 'client-1',
      },
    });
    expect(JSON.stringify(azure)).not.toContain('azure-client-secret-value');
    expect((await cli(['credentials', 'delete', 'azure-entra'])).code).toBe(0);
  });

  it('publishes models with one target or several weighted ones', async () => {
    const created = await cli([
      'models',
      'create',
      '--name',
      'gpt-test',
      '--credential',
      'fake',
      '--upstream-model',
      'gpt-4o-mini',
      '--input-price',
      '0.15',
      '--output-price',
      '0.6',
    ]);
    expect(created.code).toBe(0);
    const balanced = await json([
      'models',
      'create',
      '--name',
      'balanced',
      '--target',
      'fake:gpt-4o-mini@3',
      '--target',
      'fake:gpt-4o',
      '--input-price',
      '2.5',
      '--output-price',
      '10',
    ]);
    expect(balanced.targets).toMatchObject([
      { credential: 'fake', upstreamModel: 'gpt-4o-mini', weight: 3 },
      { credential: 'fake', upstreamModel: 'gpt-4o', weight: 1 },
    ]);

    const list = await cli(['models', 'list']);
    expect(list.code).toBe(0);
    expect(list.stdout).toMatch(/gpt-test.*fake → gpt-4o-mini.*\$0\.15.*\$0\.60/);
    expect(list.stdout).toContain('balanced');

    expect((await cli(['models', 'delete', 'balanced'])).code).toBe(0);
    const { models } = await json(['models', 'list']);
    expect(models.map((model: { name: string }) => model.name)).toEqual(['gpt-test']);
  });

  it('creates a key whose JSON carries the id and the full key, which works at once', async () => {
    const created = await json(['keys', 'create', '--name', 'ci-bot']);
    expect(created.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(created.key).toMatch(/^tg_/);
    keyId = created.id;
    key = created.key;
    expect((await chat(key)).status).toBe(200);
  });

  it('shows a new key once, with a warning and an expiry from a duration', async () => {
    const run = await cli(['keys', 'create', '--name', 'shown-once', '--expires', '30d']);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/\btg_\S+/);
    expect(run.stdout).toContain('will not be shown again');
    const expires = /Expires: (\S+)/.exec(run.stdout)?.[1] ?? '';
    const days = (Date.parse(expires) - Date.now()) / 86_400_000;
    expect(days).toBeGreaterThan(29.9);
    expect(days).toBeLessThanOrEqual(30);
  });

  it('disables and enables a key: the gateway refuses it, then accepts it again', async () => {
    const disabled = await cli(['keys', 'disable', keyId]);
    expect(disabled.code).toBe(0);
    expect(disabled.stdout).toContain('status: disabled');
    expect((await chat(key)).status).toBe(401);

    expect((await cli(['keys', 'enable', 'ci-bot'])).code).toBe(0);
    expect((await chat(key)).status).toBe(200);
  });

  it('reports usage per key, in keys show and usage list', async () => {
    const shown = await json(['keys', 'show', keyId]);
    expect(shown.usage.requests).toBeGreaterThanOrEqual(2);
    expect(shown.usage.costUsd).toBeGreaterThan(0);

    const human = await cli(['keys', 'show', keyId]);
    expect(human.stdout).toMatch(/Requests\s*│\s*[2-9]/);
    expect(human.stdout).toContain('$0.0000');

    const page = await json(['usage', 'list', '--key', keyId]);
    expect(page.records.length).toBeGreaterThanOrEqual(2);
    expect(page.records.every((record: { keyId: string }) => record.keyId === keyId)).toBe(true);
    expect(page.totals.requests).toBe(page.records.length);

    const table = await cli(['usage', 'list', '--key', keyId]);
    expect(table.stdout).toMatch(/ci-bot.*gpt-test.*openai.*200/);
    expect(table.stdout).toMatch(/Total: \d+ requests \(0 failed\)/);
  });

  it('revokes a key: the gateway refuses it for good', async () => {
    expect((await cli(['keys', 'revoke', keyId])).code).toBe(0);
    expect((await chat(key)).status).toBe(401);

    const list = await cli(['keys', 'list', '--status', 'revoked']);
    expect(list.stdout).toMatch(/ci-bot.*tg_.*revoked.*default/);
    expect(list.stdout).not.toContain('shown-once');
  });

  it('enforces a project key limit and says so', async () => {
    expect((await cli(['projects', 'create', '--name', 'tight', '--key-limit', '1'])).code).toBe(0);
    expect((await cli(['keys', 'create', '--name', 'first', '--project', 'tight'])).code).toBe(0);

    const second = await cli(['keys', 'create', '--name', 'second', '--project', 'tight']);
    expect(second.code).toBe(1);
    expect(second.stdout).toBe('');
    expect(second.stderr).toMatch(/^tollgate: Project tight has reached its limit of 1 API keys/);

    const projects = await cli(['projects', 'list']);
    expect(projects.stdout).toMatch(/tight\s*│\s*free\s*│\s*1 of 1 keys used/);
  });

  it('fails with a clear message and exit code 1', async () => {
    const port = await closedPort();
    const [unknown, noToken, unreachable] = await Promise.all([
      cli(['keys', 'show', '00000000-0000-4000-8000-000000000000']),
      cli(['keys', 'list'], { TOLLGATE_ADMIN_TOKEN: undefined }),
      cli(['keys', 'list', '--json'], { TOLLGATE_URL: `http://127.0.0.1:${port}` }),
    ]);
    expect(unknown).toMatchObject({ code: 1, stdout: '' });
    expect(unknown.stderr).toBe('tollgate: No API key "00000000-0000-4000-8000-000000000000"\n');
    expect(noToken).toMatchObject({ code: 1, stdout: '' });
    expect(noToken.stderr).toMatch(/^tollgate: TOLLGATE_ADMIN_TOKEN is not set/);
    expect(unreachable).toMatchObject({ code: 1, stdout: '' });
    expect(unreachable.stderr).toContain(`Tollgate could not be reached at http://127.0.0.1:${port}`);
    for (const run of [unknown, noToken, unreachable]) expect(run.stderr).not.toMatch(/\n\s+at /);
  });

  it('never prints the provider secret', () => {
    expect(outputs.length).toBeGreaterThan(20);
    for (const output of outputs) expect(output).not.toContain(SECRET);
  });
});
