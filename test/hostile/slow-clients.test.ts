import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../support/backends.ts';
import { FakeOpenAI } from '../support/fake-openai.ts';
import { type RunningTollgate, startTollgate } from '../support/tollgate.ts';

/**
 * Slow and idle clients, on real sockets. The timeouts are set short here so the suite runs
 * fast; each phase's bound is the configured timeout plus a little slack (Node checks header
 * deadlines on an interval of at most a quarter of the headers timeout).
 */
const HEADERS_MS = 600;
const BODY_MS = 600;
const IDLE_MS = 600;
const MAX_CONNECTIONS = 40;
const SLACK_MS = 700;
const PROVIDER_SECRET = 'sk-slow-clients-provider-secret';

interface Connection {
  socket: net.Socket;
  received: () => string;
  /** Milliseconds from connecting to the server closing the socket; rejects past `withinMs`. */
  closed: (withinMs: number) => Promise<number>;
}

async function connect(url: string): Promise<Connection> {
  const { hostname, port } = new URL(url);
  const socket = net.connect(Number(port), hostname);
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  const started = Date.now();
  let text = '';
  socket.on('data', (chunk) => {
    text += chunk.toString('utf8');
  });
  socket.on('error', () => {});
  const ended = new Promise<number>((resolve) => socket.once('close', () => resolve(Date.now() - started)));
  return {
    socket,
    received: () => text,
    closed: (withinMs) =>
      Promise.race([
        ended,
        new Promise<number>((_, reject) =>
          setTimeout(() => reject(new Error(`socket still open after ${withinMs} ms`)), withinMs).unref(),
        ),
      ]),
  };
}

describe('slow and idle clients', () => {
  let tg: RunningTollgate;
  let provider: FakeOpenAI;
  let key: string;
  const open: net.Socket[] = [];

  beforeAll(async () => {
    provider = await new FakeOpenAI(PROVIDER_SECRET).start();
    tg = await startTollgate(
      { dataDir: tempDir() },
      {
        TOLLGATE_HEADERS_TIMEOUT_MS: String(HEADERS_MS),
        TOLLGATE_BODY_TIMEOUT_MS: String(BODY_MS),
        TOLLGATE_IDLE_TIMEOUT_MS: String(IDLE_MS),
        TOLLGATE_MAX_CONNECTIONS: String(MAX_CONNECTIONS),
      },
    );
    await tg.admin('POST', '/api/v1/credentials', {
      name: 'openai',
      provider: 'openai',
      fields: { apiKey: PROVIDER_SECRET, baseUrl: provider.url },
    });
    for (const [name, upstreamModel] of [
      ['gpt-4o', 'gpt-4o'],
      ['thinker', 'slow-1500'],
    ]) {
      const model = await tg.admin('POST', '/api/v1/models', {
        name,
        targets: [{ credential: 'openai', upstreamModel }],
        inputPrice: 1,
        outputPrice: 1,
      });
      expect(model.status).toBe(201);
    }
    key = (await tg.admin('POST', '/api/v1/keys', { name: 'slow-clients' })).body.key;
  }, 30_000);

  afterAll(async () => {
    for (const socket of open) socket.destroy();
    await tg?.close();
    await provider?.close();
  });

  it('closes a socket that sends nothing at all', async () => {
    const connection = await connect(tg.url);
    const elapsed = await connection.closed(HEADERS_MS + SLACK_MS);
    expect(elapsed).toBeGreaterThanOrEqual(HEADERS_MS - 50);
  });

  it('closes a socket that trickles header lines and never finishes its request head', async () => {
    const connection = await connect(tg.url);
    connection.socket.write('GET /health HTTP/1.1\r\nhost: tollgate\r\n');
    let line = 0;
    const trickle = setInterval(() => {
      if (!connection.socket.destroyed) connection.socket.write(`x-trickle-${line++}: still here\r\n`);
    }, 100);
    try {
      const elapsed = await connection.closed(HEADERS_MS + SLACK_MS);
      expect(elapsed).toBeGreaterThanOrEqual(HEADERS_MS - 50);
      expect(line).toBeGreaterThan(3);
    } finally {
      clearInterval(trickle);
    }
  });

  it('closes a request whose body stops arriving', async () => {
    const connection = await connect(tg.url);
    connection.socket.write(
      [
        'POST /v1/chat/completions HTTP/1.1',
        'host: tollgate',
        `authorization: Bearer ${key}`,
        'content-type: application/json',
        'content-length: 200',
        '',
        '{"model":"gpt-4o",',
      ].join('\r\n'),
    );
    const elapsed = await connection.closed(BODY_MS + SLACK_MS);
    expect(elapsed).toBeGreaterThanOrEqual(BODY_MS - 50);
  });

  it('closes an idle keep-alive connection after its last answer', async () => {
    const connection = await connect(tg.url);
    connection.socket.write('GET /health HTTP/1.1\r\nhost: tollgate\r\n\r\n');
    // Node waits one second past the advertised keep-alive timeout, so the client closes first.
    const elapsed = await connection.closed(IDLE_MS + 1000 + SLACK_MS);
    expect(connection.received()).toMatch(/^HTTP\/1\.1 200/);
    expect(elapsed).toBeGreaterThanOrEqual(IDLE_MS - 50);
  });

  it('keeps serving a keep-alive connection that sends its next request in time', async () => {
    const connection = await connect(tg.url);
    for (let i = 0; i < 3; i++) {
      connection.socket.write('GET /health HTTP/1.1\r\nhost: tollgate\r\n\r\n');
      await new Promise((resolve) => setTimeout(resolve, IDLE_MS / 2));
    }
    expect(connection.received().match(/HTTP\/1\.1 200/g)).toHaveLength(3);
    connection.socket.destroy();
  });

  it('does not cut an answer that takes longer than every client timeout, with long silences', async () => {
    provider.chunkDelayMs = 400;
    try {
      const started = Date.now();
      for (const model of ['thinker', 'gpt-4o']) {
        const response = await fetch(`${tg.url}/v1/chat/completions`, {
          method: 'POST',
          headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
          body: JSON.stringify({ model, stream: true, messages: [{ role: 'user', content: 'Take your time' }] }),
        });
        expect(response.status).toBe(200);
        const text = await response.text();
        expect(text).toContain('data: [DONE]');
      }
      // The provider was silent for 1.5 s, then streamed for about 2 s: past every timeout above.
      expect(Date.now() - started).toBeGreaterThan(HEADERS_MS + BODY_MS + IDLE_MS);
    } finally {
      provider.chunkDelayMs = 0;
    }
  }, 20_000);

  it('closes connections past the maximum at once, and serves again when they are gone', async () => {
    const held = await Promise.all(Array.from({ length: MAX_CONNECTIONS }, () => connect(tg.url)));
    for (const connection of held) open.push(connection.socket);
    const extra = await connect(tg.url);
    extra.socket.write('GET /health HTTP/1.1\r\nhost: tollgate\r\n\r\n');
    const elapsed = await extra.closed(HEADERS_MS);
    expect(elapsed).toBeLessThan(HEADERS_MS / 2);
    expect(extra.received()).toBe('');
    for (const connection of held) connection.socket.destroy();
    await new Promise((resolve) => setTimeout(resolve, 100));
    const health = await fetch(`${tg.url}/health`);
    expect(health.status).toBe(200);
  });
});
