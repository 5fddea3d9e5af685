import dns from 'node:dns';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { providerCredentials } from '../../src/store/schema.ts';
import { tempDir } from '../support/backends.ts';
import { FakeOpenAI } from '../support/fake-openai.ts';
import { type RunningTollgate, startTollgate } from '../support/tollgate.ts';

/**
 * A credential's base URL decides where the gateway connects. Link-local and cloud metadata
 * addresses are refused when the credential is saved and again when the gateway connects, on
 * the address the connection actually uses.
 */
const PROVIDER_SECRET = 'sk-ssrf-provider-secret';
const METADATA_URLS = [
  'http://169.254.169.254/latest/meta-data/',
  'http://169.254.170.2/v2/credentials',
  'http://[fd00:ec2::254]/latest/meta-data/',
  'http://[fe80::1]:8080/v1',
  'http://metadata.google.internal/computeMetadata/v1',
  'http://100.100.100.200/latest/meta-data',
  'http://[::ffff:169.254.169.254]/v1',
  'http://2852039166/v1',
];

describe('provider addresses', () => {
  let tg: RunningTollgate;
  let provider: FakeOpenAI;
  let key: string;
  const realLookup = dns.lookup;

  const chat = (model: string) =>
    fetch(`${tg.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model, messages: [{ role: 'user', content: 'Hi' }] }),
    });

  async function modelAt(name: string, baseUrl: string): Promise<void> {
    const credential = await tg.admin('POST', '/api/v1/credentials', {
      name,
      provider: 'openai',
      fields: { apiKey: PROVIDER_SECRET, baseUrl },
    });
    expect(credential.status).toBe(201);
    const model = await tg.admin('POST', '/api/v1/models', {
      name,
      targets: [{ credential: name, upstreamModel: 'gpt-4o' }],
      inputPrice: 1,
      outputPrice: 1,
      retries: 0,
    });
    expect(model.status).toBe(201);
  }

  beforeAll(async () => {
    provider = await new FakeOpenAI(PROVIDER_SECRET).start();
    tg = await startTollgate({ dataDir: tempDir() }, { TOLLGATE_UPSTREAM_TIMEOUT_MS: '3000' });
    key = (await tg.admin('POST', '/api/v1/keys', { name: 'ssrf' })).body.key;
    // Test-only names: `*.metadata.test` resolves to the metadata address, `*.local.test` to
    // loopback, the rest as usual.
    const fake = ((hostname: string, options: unknown, callback: unknown) => {
      const answer = hostname.endsWith('.metadata.test')
        ? '169.254.169.254'
        : hostname.endsWith('.mixed.test')
          ? ['127.0.0.1', '169.254.169.254']
          : hostname.endsWith('.local.test')
            ? '127.0.0.1'
            : undefined;
      if (answer === undefined) return (realLookup as (...args: unknown[]) => void)(hostname, options, callback);
      const all = (options as { all?: boolean }).all === true;
      const list = [answer].flat().map((address) => ({ address, family: 4 }));
      const done = callback as (...args: unknown[]) => void;
      process.nextTick(() => (all ? done(null, list) : done(null, list[0]?.address, 4)));
    }) as typeof dns.lookup;
    dns.lookup = fake;
  }, 30_000);

  afterAll(async () => {
    dns.lookup = realLookup;
    await tg?.close();
    await provider?.close();
  });

  it.each(METADATA_URLS)('refuses a credential whose base URL is %s', async (baseUrl) => {
    const created = await tg.admin('POST', '/api/v1/credentials', {
      name: `metadata-${Math.random().toString(36).slice(2, 8)}`,
      provider: 'openai',
      fields: { apiKey: PROVIDER_SECRET, baseUrl },
    });
    expect(created.status).toBe(400);
    expect(created.body.error.message).toMatch(/"baseUrl" may not point at .*link-local and cloud metadata addresses/);
    expect(created.body.error.message).toContain('TOLLGATE_ALLOW_LINK_LOCAL_UPSTREAMS=true');
  });

  it('refuses changing a credential to a metadata address', async () => {
    await modelAt('loopback', provider.url);
    const changed = await tg.admin('PATCH', '/api/v1/credentials/loopback', {
      fields: { baseUrl: 'http://169.254.169.254/v1' },
    });
    expect(changed.status).toBe(400);
    expect(changed.body.error.message).toMatch(/link-local/);
  });

  it('still reaches a self-hosted model on loopback, by address or by name', async () => {
    const byAddress = await chat('loopback');
    expect(byAddress.status).toBe(200);
    await modelAt('by-name', provider.url.replace('127.0.0.1', 'vllm.local.test'));
    const byName = await chat('by-name');
    expect(byName.status).toBe(200);
  });

  it('refuses at connect time a name that resolves to a metadata address', async () => {
    const before = provider.received.length;
    await modelAt('rebound', provider.url.replace('127.0.0.1', 'rebound.metadata.test'));
    const response = await chat('rebound');
    expect(response.status).toBe(502);
    const body = (await response.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe('provider_unreachable');
    expect(body.error.message).toMatch(/address was refused: link-local/);
    expect(provider.received.length).toBe(before);
  });

  it('refuses a name when any of its addresses is a metadata address', async () => {
    await modelAt('mixed', provider.url.replace('127.0.0.1', 'both.mixed.test'));
    const response = await chat('mixed');
    expect(response.status).toBe(502);
    expect(((await response.json()) as { error: { message: string } }).error.message).toMatch(/refused/);
  });

  it('refuses at connect time a metadata address that reached the database some other way', async () => {
    await modelAt('legacy', provider.url);
    const [row] = await tg.tollgate.store.db
      .select()
      .from(providerCredentials)
      .where(eq(providerCredentials.name, 'legacy'));
    await tg.tollgate.store.db
      .update(providerCredentials)
      .set({ settings: { ...row?.settings, baseUrl: 'http://169.254.169.254/v1' } })
      .where(eq(providerCredentials.name, 'legacy'));
    await tg.tollgate.gateway.models.reload();
    const response = await chat('legacy');
    expect(response.status).toBe(502);
    expect(((await response.json()) as { error: { message: string } }).error.message).toMatch(/refused/);
  });
});
