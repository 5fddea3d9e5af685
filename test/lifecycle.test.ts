import { count } from 'drizzle-orm';
import OpenAI from 'openai';
import { afterAll, describe, expect, it } from 'vitest';
import { openStore } from '../src/store/db.ts';
import { usageRecords } from '../src/store/schema.ts';
import { backends, tempDir } from './support/backends.ts';
import { FakeOpenAI } from './support/fake-openai.ts';
import { exited, serveProcess as serve } from './support/processes.ts';
import { ADMIN_TOKEN, startTollgate } from './support/tollgate.ts';

const SECRET = 'sk-lifecycle-secret-000111222333';

async function admin(url: string, method: string, path: string, body?: unknown, token = ADMIN_TOKEN) {
  const response = await fetch(`${url}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json().catch(() => undefined)) as any };
}

async function publish(url: string, providerUrl: string, token = ADMIN_TOKEN): Promise<string> {
  await admin(
    url,
    'POST',
    '/api/v1/credentials',
    { name: 'fake', provider: 'openai', fields: { apiKey: SECRET, baseUrl: providerUrl } },
    token,
  );
  await admin(
    url,
    'POST',
    '/api/v1/models',
    { name: 'gpt-4o', targets: [{ credential: 'fake', upstreamModel: 'gpt-4o' }], inputPrice: 1, outputPrice: 2 },
    token,
  );
  return (await admin(url, 'POST', '/api/v1/keys', { name: 'lifecycle' }, token)).body.key;
}

describe('running Tollgate as a process', () => {
  const provider = new FakeOpenAI(SECRET);
  afterAll(() => provider.close());

  it('prints a first-run admin token once, and writes every usage record on SIGTERM, in-flight streams included', async () => {
    await provider.start();
    const dataDir = tempDir();
    const first = await serve({ TOLLGATE_DATA_DIR: dataDir, TOLLGATE_ADMIN_TOKEN: '' });
    const token = /TOLLGATE_ADMIN_TOKEN=(tga_\S+)/.exec(first.output())?.[1];
    expect(token).toBeDefined();
    const apiKey = await publish(first.url, provider.url, token);
    const client = new OpenAI({ apiKey, baseURL: `${first.url}/v1`, maxRetries: 0 });

    const quick = await Promise.all(
      Array.from({ length: 40 }, () =>
        client.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] }),
      ),
    );
    expect(quick).toHaveLength(40);
    provider.chunkDelayMs = 200;
    const stream = await client.chat.completions.create({
      model: 'gpt-4o',
      messages: [{ role: 'user', content: 'slow' }],
      stream: true,
    });
    first.child.kill('SIGTERM');
    let text = '';
    for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
    provider.chunkDelayMs = 0;
    expect(text).toBe('Hello!');
    expect(await exited(first.child)).toBe(0);

    const store = await openStore({ dataDir });
    const [row] = await store.db.select({ n: count() }).from(usageRecords);
    await store.close();
    expect(row?.n).toBe(41);

    const second = await serve({ TOLLGATE_DATA_DIR: dataDir, TOLLGATE_ADMIN_TOKEN: '', NODE_ENV: 'production' });
    expect(second.output()).not.toContain('TOLLGATE_ADMIN_TOKEN=');
    // In production, a master key only in a file on disk is worth a loud warning.
    expect(second.output()).toContain('WARNING: TOLLGATE_MASTER_KEY is not set');
    expect((await admin(second.url, 'GET', '/api/v1/keys', undefined, token as string)).status).toBe(200);
    expect((await admin(second.url, 'GET', '/api/v1/keys', undefined, 'tga_not-the-token')).status).toBe(401);
    second.child.kill('SIGINT');
    expect(await exited(second.child)).toBe(0);
  }, 90_000);
});

const shared = backends().filter((backend) => backend.name === 'postgres');
describe.skipIf(shared.length === 0)('several instances on one PostgreSQL', () => {
  it('refuses a revoked key on every instance within one second', async () => {
    const backend = shared[0] as (typeof shared)[number];
    const database = await backend.prepare();
    await provider2.start();
    const masterKey = { TOLLGATE_MASTER_KEY: 'ab'.repeat(32) };
    const a = await startTollgate(database, masterKey);
    const b = await startTollgate({ ...database, dataDir: tempDir() }, masterKey);
    // A third instance with another master key would misread every secret: it must not start.
    await expect(
      startTollgate({ ...database, dataDir: tempDir() }, { TOLLGATE_MASTER_KEY: 'cd'.repeat(32) }),
    ).rejects.toThrow(/TOLLGATE_MASTER_KEY.*does not match/);
    try {
      const apiKey = await publish(a.url, provider2.url);
      // The model was published on A: B learns of it through the shared change feed.
      const onB = new OpenAI({ apiKey, baseURL: `${b.url}/v1`, maxRetries: 0 });
      const ask = () => onB.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'x' }] });
      await expect
        .poll(
          () =>
            ask().then(
              () => 'ok',
              (error) => String(error.status),
            ),
          { timeout: 2000 },
        )
        .toBe('ok');
      const keys = await a.admin('GET', '/api/v1/keys');
      const id = keys.body.keys[0].id;
      for (const [action, expected] of [
        ['disable', /disabled/],
        ['enable', null],
        ['revoke', /revoked/],
      ] as const) {
        await a.admin('POST', `/api/v1/keys/${id}/${action}`);
        const changed = Date.now();
        await expect
          .poll(
            () =>
              ask().then(
                () => 'ok',
                (error) => error.message,
              ),
            { interval: 20, timeout: 1000 },
          )
          .toMatch(expected ?? /^ok$/);
        expect(Date.now() - changed).toBeLessThan(1000);
      }
    } finally {
      await a.close();
      await b.close();
      await provider2.close();
    }
  }, 60_000);
});
const provider2 = new FakeOpenAI(SECRET);
