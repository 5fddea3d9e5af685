import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { tempDir } from '../support/backends.ts';
import { type RunningTollgate, startTollgate } from '../support/tollgate.ts';

/**
 * A provider is not trusted to answer well. A 200 whose body is not JSON, or a body larger
 * than the configured cap, is a 502 `provider_error` in the caller's dialect, not a 200; and
 * a provider that never answers holds the caller for the request's deadline in all, not for a
 * full timeout per retry and per fallback.
 */
const BODY_LIMIT = 64 * 1024;
const TIMEOUT_MS = 1000;
const DEADLINE_MS = 1500;

const COMPLETION = JSON.stringify({
  id: 'chatcmpl-1',
  object: 'chat.completion',
  created: 0,
  model: 'm',
  choices: [{ index: 0, message: { role: 'assistant', content: 'hi' }, finish_reason: 'stop' }],
  usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 },
});

/** A provider whose upstream model name says how it misbehaves. */
function misbehavingProvider(): { server: Server; calls: string[] } {
  const calls: string[] = [];
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk) => chunks.push(chunk));
    request.on('end', () => {
      const model = String(JSON.parse(Buffer.concat(chunks).toString('utf8')).model);
      calls.push(model);
      switch (model) {
        case 'html':
          response.writeHead(200, { 'content-type': 'text/html' });
          return response.end('<html><body>502 Bad Gateway</body></html>');
        case 'unclosed':
          response.writeHead(200, { 'content-type': 'application/json' });
          return response.end(COMPLETION.slice(0, -1));
        case 'html-stream':
          response.writeHead(200, { 'content-type': 'text/html' });
          return response.end('<html><body>Service Unavailable</body></html>');
        case 'empty':
          response.writeHead(200, { 'content-type': 'application/json' });
          return response.end();
        case 'truncated':
          response.writeHead(200, { 'content-type': 'application/json' });
          return response.end(COMPLETION.slice(0, 40));
        case 'huge-declared': {
          const body = `{"pad":"${'x'.repeat(BODY_LIMIT * 2)}"}`;
          response.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
          return response.end(body);
        }
        case 'huge-chunked': {
          response.writeHead(200, { 'content-type': 'application/json' });
          response.write('{"pad":"');
          for (let i = 0; i < 40; i++) response.write('x'.repeat(16 * 1024));
          return response.end('"}');
        }
        case 'negative-usage':
          // JSON.stringify cannot write -1e999: the provider's bytes are written by hand.
          response.writeHead(200, { 'content-type': 'application/json' });
          return response.end(
            COMPLETION.replace(
              /"usage":\{[^}]*\}/,
              '"usage":{"prompt_tokens":-1e999,"completion_tokens":-5,"total_tokens":-1}',
            ),
          );
        case 'huge-usage':
          response.writeHead(200, { 'content-type': 'application/json' });
          return response.end(
            COMPLETION.replace(
              /"usage":\{[^}]*\}/,
              '"usage":{"prompt_tokens":1e308,"completion_tokens":1e999,"total_tokens":1}',
            ),
          );
        case 'hang':
          return; // Never answers.
        case 'hang-body':
          response.writeHead(200, { 'content-type': 'application/json' });
          return response.write('{"id":'); // Never finishes.
        default:
          response.writeHead(200, { 'content-type': 'application/json' });
          return response.end(COMPLETION);
      }
    });
  });
  return { server, calls };
}

describe('answers a provider should not have given', () => {
  let tg: RunningTollgate;
  const provider = misbehavingProvider();
  let key: string;

  beforeAll(async () => {
    await new Promise<void>((resolve) => provider.server.listen(0, '127.0.0.1', resolve));
    const port = (provider.server.address() as AddressInfo).port;
    tg = await startTollgate(
      { dataDir: tempDir() },
      {
        TOLLGATE_UPSTREAM_TIMEOUT_MS: String(TIMEOUT_MS),
        TOLLGATE_REQUEST_DEADLINE_MS: String(DEADLINE_MS),
        TOLLGATE_UPSTREAM_BODY_LIMIT: String(BODY_LIMIT),
      },
    );
    const credential = await tg.admin('POST', '/api/v1/credentials', {
      name: 'bad',
      provider: 'openai',
      fields: { apiKey: 'sk-bad', baseUrl: `http://127.0.0.1:${port}/v1` },
    });
    expect(credential.status).toBe(201);
    const models: Array<[string, string[], number]> = [
      ['html', ['html'], 0],
      ['empty', ['empty'], 0],
      ['html-stream', ['html-stream'], 0],
      ['unclosed', ['unclosed'], 0],
      ['truncated', ['truncated'], 0],
      ['huge-declared', ['huge-declared'], 0],
      ['huge-chunked', ['huge-chunked'], 0],
      ['hang-body', ['hang-body'], 0],
      // One retry, and a fallback that hangs too: three attempts of a full timeout each before.
      ['hang', ['hang', 'hang'], 1],
      ['good', ['good'], 0],
      ['negative-usage', ['negative-usage'], 0],
      ['huge-usage', ['huge-usage'], 0],
    ];
    for (const [name, upstreams, retries] of models) {
      const created = await tg.admin('POST', '/api/v1/models', {
        name,
        retries,
        targets: upstreams.map((upstreamModel) => ({ credential: 'bad', upstreamModel })),
        inputPrice: 0,
        outputPrice: 0,
      });
      expect(created.status, JSON.stringify(created.body)).toBe(201);
    }
    key = (await tg.admin('POST', '/api/v1/keys', { name: 'k' })).body.key;
  }, 30_000);

  afterAll(async () => {
    await tg?.close();
    provider.server.closeAllConnections();
    await new Promise((resolve) => provider.server.close(resolve));
  });

  async function send(door: 'openai' | 'anthropic', model: string) {
    const started = performance.now();
    const response = await fetch(`${tg.url}${door === 'openai' ? '/v1/chat/completions' : '/v1/messages'}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model, max_tokens: 10, messages: [{ role: 'user', content: 'hello' }] }),
    });
    const text = await response.text();
    return { status: response.status, text, body: JSON.parse(text), ms: performance.now() - started };
  }

  it.each(['html', 'empty', 'truncated', 'unclosed'])(
    'turns a 200 whose body is not JSON (%s) into 502 provider_error',
    async (model) => {
      const openai = await send('openai', model);
      expect(openai.status).toBe(502);
      expect(openai.body.error).toMatchObject({ code: 'provider_error', type: 'api_error', status: 502 });
      expect(openai.body.error.message).toMatch(/^Provider openai answered HTTP 200 with a body that is not JSON/);
      const anthropic = await send('anthropic', model);
      expect(anthropic.status).toBe(502);
      expect(anthropic.body).toMatchObject({ type: 'error', error: { type: 'api_error' } });
      expect(anthropic.text).not.toContain('<html>');
    },
  );

  it.each(['huge-declared', 'huge-chunked'])(
    'refuses a body over TOLLGATE_UPSTREAM_BODY_LIMIT (%s) with 502',
    async (model) => {
      for (const door of ['openai', 'anthropic'] as const) {
        const result = await send(door, model);
        expect(result.status).toBe(502);
        expect(result.text).toContain(`over the ${BODY_LIMIT}-byte limit`);
        expect(result.text.length).toBeLessThan(1000);
      }
    },
  );

  it('holds the caller for the request deadline at most, retries and fallbacks included', async () => {
    const before = provider.calls.length;
    const result = await send('openai', 'hang');
    expect(result.status).toBe(504);
    expect(result.body.error).toMatchObject({ code: 'deadline_exceeded', status: 504 });
    expect(result.ms).toBeGreaterThanOrEqual(DEADLINE_MS - 50);
    expect(result.ms).toBeLessThan(DEADLINE_MS + 700);
    // The first attempt had a full timeout, the next only what was left of the deadline.
    expect(provider.calls.length - before).toBeGreaterThanOrEqual(2);
    const anthropic = await send('anthropic', 'hang');
    expect(anthropic.status).toBe(504);
    expect(anthropic.body).toMatchObject({ type: 'error', error: { type: 'api_error' } });
  });

  it('bounds a body that starts and never ends by the deadline too', async () => {
    const result = await send('openai', 'hang-body');
    expect([502, 504]).toContain(result.status);
    expect(result.ms).toBeLessThan(DEADLINE_MS + 700);
  });

  it('takes a negative or infinite usage report as no usage: nothing refunded, nothing crashes', async () => {
    const limited = await tg.admin('POST', '/api/v1/keys', {
      name: 'limited',
      spendLimit: { allTimeUsd: 1 },
      rateLimits: { tpm: 1000 },
    });
    expect(limited.status, JSON.stringify(limited.body)).toBe(201);
    const usual = key;
    key = limited.body.key;
    onTestFinished(() => {
      key = usual;
    });
    for (let i = 0; i < 3; i++) {
      const result = await send('openai', 'negative-usage');
      expect(result.status).toBe(200);
      expect(result.body.usage.completion_tokens).toBe(-5); // passed through as the provider sent it
    }
    expect((await send('openai', 'good')).status).toBe(200);
    // A report past any real count is held to the largest count a usage record can take:
    // the token limit is then spent, and it stays spent.
    expect((await send('openai', 'huge-usage')).status).toBe(200);
    const after = await send('openai', 'good');
    expect(after.status).toBe(429);
    expect(after.body.error.code).toBe('rate_limited');
    await tg.tollgate.gateway.usage.flush();
    expect(tg.logs.filter((line) => line.includes('could not be written'))).toEqual([]);
  });

  it("refuses a streamed answer that is not a stream before the caller's stream starts", async () => {
    for (const [path, dialect] of [
      ['/v1/chat/completions', 'openai'],
      ['/v1/messages', 'anthropic'],
    ] as const) {
      const response = await fetch(`${tg.url}${path}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        body: JSON.stringify({
          model: 'html-stream',
          stream: true,
          max_tokens: 10,
          messages: [{ role: 'user', content: 'hi' }],
        }),
      });
      const text = await response.text();
      expect(response.status).toBe(502);
      expect(text).not.toContain('<html>');
      const body = JSON.parse(text);
      if (dialect === 'openai') expect(body.error.code).toBe('provider_error');
      else expect(body).toMatchObject({ type: 'error', error: { type: 'api_error' } });
    }
  });

  it('still serves a provider that answers well', async () => {
    expect((await send('openai', 'good')).status).toBe(200);
    expect((await send('anthropic', 'good')).status).toBe(200);
  });
});
