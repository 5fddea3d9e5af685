import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backends } from './support/backends.ts';
import { FakeOpenAI } from './support/fake-openai.ts';
import { type RunningTollgate, startTollgate } from './support/tollgate.ts';

const SECRET = 'sk-admin-api-secret-9876543210';

describe.each(backends())('admin API on $name', (backend) => {
  let tg: RunningTollgate;
  const provider = new FakeOpenAI(SECRET);

  beforeAll(async () => {
    await provider.start();
    tg = await startTollgate(await backend.prepare());
  }, 60_000);
  afterAll(async () => {
    await tg?.close();
    await provider.close();
  });

  it('requires the admin token, compared exactly', async () => {
    for (const authorization of [undefined, 'Bearer wrong-token-wrong-token', 'Basic abc']) {
      const response = await fetch(`${tg.url}/api/v1/keys`, { headers: authorization ? { authorization } : {} });
      expect(response.status).toBe(401);
      expect((await response.json()).error.code).toBe('admin_unauthorized');
    }
  });

  it('publishes an OpenAPI document generated from the route schemas', async () => {
    const response = await fetch(`${tg.url}/api/openapi.json`);
    const document = await response.json();
    expect(document.openapi).toMatch(/^3\./);
    for (const path of [
      '/api/v1/keys',
      '/api/v1/keys/{id}',
      '/api/v1/credentials',
      '/api/v1/models',
      '/api/v1/projects',
      '/api/v1/usage',
    ]) {
      expect(Object.keys(document.paths)).toContain(path);
    }
    expect(document.paths['/api/v1/keys'].post.requestBody.content['application/json'].schema.required).toContain(
      'name',
    );
  });

  it('validates input and says what is wrong', async () => {
    const missing = await tg.admin('POST', '/api/v1/keys', {});
    expect(missing.status).toBe(400);
    expect(missing.body.error.message).toMatch(/name/);
    const provider = await tg.admin('POST', '/api/v1/credentials', { name: 'x', provider: 'nope', fields: {} });
    expect(provider.status).toBe(400);
    expect(provider.body.error.message).toMatch(/unknown provider "nope"/);
    const field = await tg.admin('POST', '/api/v1/credentials', {
      name: 'x',
      provider: 'openai',
      fields: { apiKey: 'sk-1234567890', colour: 'red' },
    });
    expect(field.body.error.message).toMatch(/no field "colour"/);
    const required = await tg.admin('POST', '/api/v1/credentials', { name: 'x', provider: 'openai', fields: {} });
    expect(required.body.error.message).toMatch(/needs the field "apiKey"/);
    const past = await tg.admin('POST', '/api/v1/keys', { name: 'old', expiresAt: '2001-01-01T00:00:00Z' });
    expect(past.body.error.message).toMatch(/future/);
    const badId = await tg.admin('POST', '/api/v1/keys/not-a-uuid/revoke');
    expect(badId.status).toBe(400);
    const unknownId = await tg.admin('POST', '/api/v1/keys/00000000-0000-4000-8000-000000000000/revoke');
    expect(unknownId.status).toBe(404);
  });

  it('masks credential secrets everywhere and refuses to delete one that models use, unless forced', async () => {
    const created = await tg.admin('POST', '/api/v1/credentials', {
      name: 'openai-production',
      provider: 'openai',
      fields: { apiKey: SECRET, baseUrl: provider.url },
    });
    expect(created.status).toBe(201);
    expect(created.body.secrets).toEqual({ apiKey: 'sk-••••3210' });
    const duplicate = await tg.admin('POST', '/api/v1/credentials', {
      name: 'openai-production',
      provider: 'openai',
      fields: { apiKey: SECRET },
    });
    expect(duplicate.status).toBe(409);
    await tg.admin('POST', '/api/v1/models', {
      name: 'gpt-4o',
      targets: [{ credential: 'openai-production', upstreamModel: 'gpt-4o' }],
    });
    await tg.admin('POST', '/api/v1/models', {
      name: 'gpt-4o-mini',
      targets: [{ credential: created.body.id, upstreamModel: 'gpt-4o-mini' }],
    });
    const listed = await tg.admin('GET', '/api/v1/credentials');
    expect(JSON.stringify(listed.body)).not.toContain(SECRET);
    expect(listed.body.credentials[0].models).toEqual(['gpt-4o', 'gpt-4o-mini']);
    const refused = await tg.admin('DELETE', '/api/v1/credentials/openai-production');
    expect(refused.status).toBe(409);
    expect(refused.body.error.message).toMatch(/used by 2 model\(s\): gpt-4o, gpt-4o-mini/);
    const forced = await tg.admin('DELETE', '/api/v1/credentials/openai-production?force=true');
    expect(forced.status).toBe(204);
    const models = await tg.admin('GET', '/api/v1/models');
    expect(models.body.models.every((model: { targets: unknown[] }) => model.targets.length === 0)).toBe(true);
  });

  it('answers 409 for a rename onto a taken name, and clears optional settings given as empty', async () => {
    await tg.admin('POST', '/api/v1/projects', { name: 'alpha' });
    await tg.admin('POST', '/api/v1/projects', { name: 'beta' });
    const clash = await tg.admin('PATCH', '/api/v1/projects/beta', { name: 'alpha' });
    expect(clash.status).toBe(409);
    const credential = await tg.admin('POST', '/api/v1/credentials', {
      name: 'with-org',
      provider: 'openai',
      fields: { apiKey: SECRET, organization: 'org-123' },
    });
    expect(credential.body.settings).toEqual({ organization: 'org-123' });
    const cleared = await tg.admin('PATCH', '/api/v1/credentials/with-org', { fields: { organization: '' } });
    expect(cleared.body.settings).toEqual({});
    expect(cleared.body.secrets).toEqual({ apiKey: 'sk-••••3210' });
    const required = await tg.admin('PATCH', '/api/v1/credentials/with-org', { fields: { apiKey: '' } });
    expect(required.status).toBe(400);
    const key = await tg.admin('POST', '/api/v1/keys', { name: 'actions', project: 'beta' });
    const disabled = await tg.admin('POST', `/api/v1/keys/${key.body.id}/disable`);
    expect(disabled.body).toMatchObject({ status: 'disabled', project: 'beta' });
  });

  it('prices a model from the catalogue unless told otherwise, and refuses a model it cannot price', async () => {
    await tg.admin('POST', '/api/v1/credentials', { name: 'cat', provider: 'openai', fields: { apiKey: SECRET } });
    const known = await tg.admin('POST', '/api/v1/models', {
      name: 'cat-4o',
      targets: [{ credential: 'cat', upstreamModel: 'gpt-4o' }],
    });
    expect(known.status).toBe(201);
    expect(known.body.inputPrice).toBeGreaterThan(0);
    expect(known.body.outputPrice).toBeGreaterThan(known.body.inputPrice);
    const overridden = await tg.admin('POST', '/api/v1/models', {
      name: 'cat-cheap',
      targets: [{ credential: 'cat', upstreamModel: 'gpt-4o' }],
      inputPrice: 0.5,
    });
    expect(overridden.body.inputPrice).toBe(0.5);
    expect(overridden.body.outputPrice).toBe(known.body.outputPrice);
    const unknown = await tg.admin('POST', '/api/v1/models', {
      name: 'cat-x',
      targets: [{ credential: 'cat', upstreamModel: 'my-own-model' }],
    });
    expect(unknown.status).toBe(400);
    expect(unknown.body.error.message).toMatch(/no price is known for openai\/my-own-model/);
  });

  it('shows which prices are derived: cache prices follow a given input price by the provider family ratios', async () => {
    await tg.admin('POST', '/api/v1/credentials', {
      name: 'claude',
      provider: 'anthropic',
      fields: { apiKey: SECRET },
    });
    const target = [{ credential: 'claude', upstreamModel: 'claude-sonnet-4-5-20250929' }];
    const listed = await tg.admin('POST', '/api/v1/models', { name: 'sonnet-list', targets: target });
    expect(listed.body).toMatchObject({
      inputPrice: 3,
      cachedInputPrice: 0.3,
      cacheWriteInputPrice: 3.75,
      cacheWrite1hInputPrice: 6,
      priceSources: { inputPrice: 'catalogue', cacheWriteInputPrice: 'catalogue' },
    });

    const negotiated = await tg.admin('POST', '/api/v1/models', {
      name: 'sonnet-deal',
      targets: target,
      inputPrice: 2,
    });
    expect(negotiated.status).toBe(201);
    expect(negotiated.body).toMatchObject({
      inputPrice: 2,
      outputPrice: 15,
      cachedInputPrice: 0.2,
      cacheWriteInputPrice: 2.5,
      cacheWrite1hInputPrice: 4,
      priceSources: {
        inputPrice: 'given',
        outputPrice: 'catalogue',
        cachedInputPrice: 'derived',
        cacheWriteInputPrice: 'derived',
        cacheWrite1hInputPrice: 'derived',
      },
    });
    expect(negotiated.body.priceNotes.join(' ')).toMatch(/\$2\.5, derived from the input price .*1\.25×/);

    // A new input price moves what was derived from it; a price given stays.
    const patched = await tg.admin('PATCH', '/api/v1/models/sonnet-deal', { inputPrice: 4, cacheWrite1hInputPrice: 7 });
    expect(patched.body).toMatchObject({ cachedInputPrice: 0.4, cacheWriteInputPrice: 5, cacheWrite1hInputPrice: 7 });
    const cheaper = await tg.admin('PATCH', '/api/v1/models/sonnet-deal', { inputPrice: 1 });
    expect(cheaper.body).toMatchObject({
      cachedInputPrice: 0.1,
      cacheWriteInputPrice: 1.25,
      cacheWrite1hInputPrice: 7,
    });
    const shown = await tg.admin('GET', '/api/v1/models/sonnet-deal');
    expect(shown.body.priceSources).toMatchObject({ cachedInputPrice: 'derived', cacheWrite1hInputPrice: 'given' });

    // An OpenAI model at a given price: its own cached ratio (gpt-4o: 0.5×), never the catalogue's $1.25.
    await tg.admin('POST', '/api/v1/credentials', { name: 'oai', provider: 'openai', fields: { apiKey: SECRET } });
    const cheap = await tg.admin('POST', '/api/v1/models', {
      name: 'oai-cheap',
      targets: [{ credential: 'oai', upstreamModel: 'gpt-4o' }],
      inputPrice: 0.5,
    });
    expect(cheap.body).toMatchObject({ cachedInputPrice: 0.25, cacheWriteInputPrice: null });

    // A model nobody knows: cached tokens at the full input price, and the details say so.
    const unknown = await tg.admin('POST', '/api/v1/models', {
      name: 'oai-own',
      targets: [{ credential: 'oai', upstreamModel: 'my-fine-tune' }],
      inputPrice: 1,
      outputPrice: 2,
    });
    expect(unknown.body.cachedInputPrice).toBeNull();
    expect(unknown.body.priceSources.cachedInputPrice).toBe('none');
    expect(unknown.body.priceNotes.join(' ')).toMatch(/cached prompt tokens are billed at the full input price/);
  });

  it('refuses credential changes on an instance whose master key was rotated away', async () => {
    const { settings } = await import('../src/store/schema.ts');
    const { eq } = await import('drizzle-orm');
    const db = tg.tollgate.store.db;
    const [check] = await db.select().from(settings).where(eq(settings.key, 'master_key_check'));
    await db.update(settings).set({ value: 'another-key-check' }).where(eq(settings.key, 'master_key_check'));
    try {
      const refused = await tg.admin('POST', '/api/v1/credentials', {
        name: 'late',
        provider: 'openai',
        fields: { apiKey: SECRET },
      });
      expect(refused.status).toBe(409);
      expect(refused.body.error.message).toMatch(/out-of-date master key/);
    } finally {
      await db.update(settings).set({ value: check!.value }).where(eq(settings.key, 'master_key_check'));
    }
    expect(
      (await tg.admin('POST', '/api/v1/credentials', { name: 'late', provider: 'openai', fields: { apiKey: SECRET } }))
        .status,
    ).toBe(201);
  });

  it('holds a project to its key limit, even when keys are created at once', async () => {
    const project = await tg.admin('POST', '/api/v1/projects', { name: 'small', keyLimit: 3 });
    expect(project.status).toBe(201);
    const attempts = await Promise.all(
      Array.from({ length: 8 }, (_, index) =>
        tg.admin('POST', '/api/v1/keys', { name: `k${index}`, project: 'small' }),
      ),
    );
    expect(attempts.filter((attempt) => attempt.status === 201)).toHaveLength(3);
    const refused = attempts.find((attempt) => attempt.status === 409);
    expect(refused?.body.error.message).toMatch(/Project small has reached its limit of 3 API keys/);
    const shown = await tg.admin('GET', '/api/v1/projects/small');
    expect(shown.body).toMatchObject({ keysUsed: 3, keyLimit: 3 });
    // A revoked key no longer counts.
    const first = attempts.find((attempt) => attempt.status === 201);
    await tg.admin('POST', `/api/v1/keys/${first?.body.id}/revoke`);
    expect((await tg.admin('POST', '/api/v1/keys', { name: 'again', project: 'small' })).status).toBe(201);
  });

  it('pages and filters usage records', async () => {
    await tg.admin('POST', '/api/v1/credentials', {
      name: 'c',
      provider: 'openai',
      fields: { apiKey: SECRET, baseUrl: provider.url },
    });
    await tg.admin('POST', '/api/v1/models', {
      name: 'm1',
      targets: [{ credential: 'c', upstreamModel: 'a' }],
      inputPrice: 1,
      outputPrice: 0,
    });
    await tg.admin('POST', '/api/v1/models', {
      name: 'm2',
      targets: [{ credential: 'c', upstreamModel: 'b' }],
      inputPrice: 1,
      outputPrice: 0,
    });
    const key = (await tg.admin('POST', '/api/v1/keys', { name: 'usage-paging' })).body;
    for (const model of ['m1', 'm1', 'm1', 'm2', 'm2']) {
      const response = await fetch(`${tg.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${key.key}`, 'content-type': 'application/json' },
        body: JSON.stringify({ model, messages: [{ role: 'user', content: 'a b' }] }),
      });
      expect(response.status).toBe(200);
    }
    const m1 = await tg.admin('GET', `/api/v1/usage?key=${key.id}&model=m1`);
    expect(m1.body.totals).toMatchObject({ requests: 3, promptTokens: 6, completionTokens: 30 });
    const seen: number[] = [];
    let cursor: number | null = null;
    do {
      const page: { body: { records: Array<{ id: number }>; nextCursor: number | null } } = await tg.admin(
        'GET',
        `/api/v1/usage?key=${key.id}&limit=2${cursor ? `&cursor=${cursor}` : ''}`,
      );
      seen.push(...page.body.records.map((record) => record.id));
      cursor = page.body.nextCursor;
    } while (cursor);
    expect(seen).toHaveLength(5);
    expect(new Set(seen).size).toBe(5);
    expect((await tg.admin('GET', `/api/v1/usage?key=${key.id}&since=1h`)).body.totals.requests).toBe(5);
    expect((await tg.admin('GET', `/api/v1/usage?key=${key.id}&until=1h`)).body.totals.requests).toBe(0);
    expect((await tg.admin('GET', '/api/v1/usage?since=yesterday-ish')).status).toBe(400);
    const missing = await fetch(`${tg.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key.key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'gpt-nine', messages: [{ role: 'user', content: 'a' }] }),
    });
    expect(missing.status).toBe(404);
    const refused = await tg.admin('GET', `/api/v1/usage?key=${key.id}&status=404`);
    expect(refused.body.records[0]).toMatchObject({
      model: 'gpt-nine',
      errorCode: 'TG_ERR_MODEL_NOT_FOUND',
      costUsd: 0,
    });
  });
});
