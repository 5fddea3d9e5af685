import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backends } from '../support/backends.ts';
import { FakeOpenAI } from '../support/fake-openai.ts';
import { type RunningTollgate, startTollgate } from '../support/tollgate.ts';

/**
 * Issue #9: the requested model name — any string the caller sends — became a Prometheus label
 * on an unauthenticated /metrics; 20,000 names grew the process to 2 GB and one scrape blocked
 * the event loop for 13 s. Labels now come from known values only, and /metrics can require a
 * token.
 */
const PROVIDER_SECRET = 'sk-metrics-flood-provider-secret';
const METRICS_TOKEN = 'metrics-token-0123456789abcdef';
const FLOOD = 400;

describe.each(backends().slice(0, 1))('/metrics under a flood of model names on $name', (backend) => {
  let tg: RunningTollgate;
  let provider: FakeOpenAI;
  let key: string;

  const chat = (model: string) =>
    fetch(`${tg.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model, messages: [{ role: 'user', content: 'hi' }] }),
    });
  const scrape = (authorization?: string) =>
    fetch(`${tg.url}/metrics`, { headers: authorization ? { authorization } : {} });

  beforeAll(async () => {
    provider = await new FakeOpenAI(PROVIDER_SECRET).start();
    tg = await startTollgate(await backend.prepare(), { TOLLGATE_METRICS_TOKEN: METRICS_TOKEN });
    expect(
      (
        await tg.admin('POST', '/api/v1/credentials', {
          name: 'openai',
          provider: 'openai',
          fields: { apiKey: PROVIDER_SECRET, baseUrl: provider.url },
        })
      ).status,
    ).toBe(201);
    expect(
      (
        await tg.admin('POST', '/api/v1/models', {
          name: 'gpt-4o',
          targets: [{ credential: 'openai', upstreamModel: 'gpt-4o' }],
          inputPrice: 1,
          outputPrice: 1,
        })
      ).status,
    ).toBe(201);
    const created = await tg.admin('POST', '/api/v1/keys', { name: 'flooder' });
    expect(created.status).toBe(201);
    key = created.body.key;
  }, 60_000);

  afterAll(async () => {
    await tg?.close();
    await provider?.close();
  });

  it('requires the metrics token when one is configured', async () => {
    expect((await scrape()).status).toBe(401);
    expect((await scrape('Bearer wrong-token-0123456789abcdef')).status).toBe(401);
    expect((await scrape(`Bearer ${METRICS_TOKEN}x`)).status).toBe(401);
    expect((await scrape(`Basic ${METRICS_TOKEN}`)).status).toBe(401);
    const ok = await scrape(`Bearer ${METRICS_TOKEN}`);
    expect(ok.status).toBe(200);
    expect(await ok.text()).toContain('tollgate_usage_queue_depth');
  });

  it('keeps its output bounded whatever model names callers send', async () => {
    expect((await chat('gpt-4o')).status).toBe(200);
    const before = (await (await scrape(`Bearer ${METRICS_TOKEN}`)).text()).length;
    for (let start = 0; start < FLOOD; start += 50) {
      await Promise.all(
        Array.from({ length: 50 }, async (_, i) => {
          const response = await chat(`flood-${start + i}-${'x'.repeat(200)}`);
          await response.arrayBuffer();
          expect(response.status).toBe(404);
        }),
      );
    }
    const text = await (await scrape(`Bearer ${METRICS_TOKEN}`)).text();
    expect(text).not.toContain('flood-');
    expect(text).toMatch(/tollgate_requests_total\{[^}]*model="gpt-4o"[^}]*\} 1/);
    expect(text).toMatch(
      new RegExp(`tollgate_requests_total\\{[^}]*model="unknown"[^}]*status="404"[^}]*\\} ${FLOOD}`),
    );
    // One more label set (model="unknown", status 404) at most, not one per name.
    expect(text.length - before).toBeLessThan(10_000);
    expect(text.length).toBeLessThan(100_000);
  }, 60_000);
});
