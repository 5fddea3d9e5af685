import net from 'node:net';
import { type ServedProcess, serveProcess, spawnServe } from '../support/processes.ts';
import { freePort } from '../support/redis.ts';

export const ADMIN_TOKEN = 'durability-admin-token-0123456789abcdef';
export const MASTER_KEY = 'ab'.repeat(32);
export const PROVIDER_SECRET = 'sk-durability-secret-000111222333';

export type TollgateProcess = ServedProcess;

const defaults = () => ({
  TOLLGATE_ADMIN_TOKEN: ADMIN_TOKEN,
  TOLLGATE_MASTER_KEY: MASTER_KEY,
  TOLLGATE_LOG_LEVEL: 'info',
});

/** Runs `tollgate serve` as a real process and waits until `/health` answers. */
export function spawnTollgate(env: Record<string, string>, timeoutMs = 30_000): Promise<TollgateProcess> {
  return serveProcess({ ...defaults(), ...env }, undefined, timeoutMs);
}

/** Runs `tollgate serve` expecting it not to start; resolves with its exit code and output. */
export async function failedStart(env: Record<string, string>, timeoutMs = 60_000) {
  const started = spawnServe({ ...defaults(), ...env }, await freePort());
  const timer = setTimeout(() => started.child.kill('SIGKILL'), timeoutMs);
  const { code } = await started.exited;
  clearTimeout(timer);
  return { code, output: started.output() };
}

export async function admin(url: string, method: string, path: string, body?: unknown) {
  const response = await fetch(`${url}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${ADMIN_TOKEN}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  if (response.status >= 400) throw new Error(`${method} ${path}: ${response.status} ${text}`);
  return text ? JSON.parse(text) : undefined;
}

/** One credential per fake provider and one model per credential (named as given), priced; returns a new key. */
export async function publish(url: string, models: Record<string, string>): Promise<string> {
  for (const [model, providerUrl] of Object.entries(models)) {
    await admin(url, 'POST', '/api/v1/credentials', {
      name: `fake-${model}`,
      provider: 'openai',
      fields: { apiKey: PROVIDER_SECRET, baseUrl: providerUrl },
    });
    await admin(url, 'POST', '/api/v1/models', {
      name: model,
      targets: [{ credential: `fake-${model}`, upstreamModel: 'gpt-4o' }],
      inputPrice: 1,
      outputPrice: 2,
    });
  }
  return (await admin(url, 'POST', '/api/v1/keys', { name: 'durability' })).key;
}

export interface Outcome {
  /** The request id Tollgate gave (x-request-id), when it answered. */
  id: string | undefined;
  status: number;
  /** When the whole response had arrived (ms since the epoch); undefined if it never did. */
  completedAt: number | undefined;
  error?: string;
}

/** One chat completion, read whole; never throws. */
export async function chat(url: string, apiKey: string, model: string, stream = false): Promise<Outcome> {
  try {
    const response = await fetch(`${url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model, messages: [{ role: 'user', content: 'one two three' }], stream }),
    });
    const id = response.headers.get('x-request-id') ?? undefined;
    try {
      const text = await response.text();
      // A stream cut short ends without [DONE]: not a completed response.
      if (stream && response.status === 200 && !text.includes('[DONE]'))
        return { id, status: response.status, completedAt: undefined, error: 'stream cut' };
      return { id, status: response.status, completedAt: Date.now() };
    } catch (error) {
      return { id, status: response.status, completedAt: undefined, error: String(error) };
    }
  } catch (error) {
    return { id: undefined, status: 0, completedAt: undefined, error: String((error as Error).cause ?? error) };
  }
}

/**
 * `clients` loops, each sending one request after another until `stop()` is called or a
 * request fails to be answered; every outcome is kept.
 */
export function load(clients: number, send: () => Promise<Outcome>) {
  const outcomes: Outcome[] = [];
  let stopped = false;
  const loops = Array.from({ length: clients }, async () => {
    while (!stopped) {
      const outcome = await send();
      outcomes.push(outcome);
      if (outcome.status !== 200) return;
    }
  });
  return {
    outcomes,
    stop: async () => {
      stopped = true;
      await Promise.all(loops);
    },
    done: Promise.all(loops),
  };
}

/**
 * A TCP proxy in front of PostgreSQL (or anything): `cut()` makes the target unreachable —
 * connections open are destroyed and new ones are closed as soon as they arrive — without
 * touching the server behind it; `restore()` lets connections through again.
 */
export class TcpProxy {
  #server: net.Server | undefined;
  readonly #sockets = new Set<net.Socket>();
  #cut = false;
  port = 0;

  constructor(
    readonly targetHost: string,
    readonly targetPort: number,
  ) {}

  async start(): Promise<this> {
    this.#server = net.createServer((client) => {
      if (this.#cut) {
        client.destroy();
        return;
      }
      const upstream = net.connect(this.targetPort, this.targetHost);
      for (const socket of [client, upstream]) {
        this.#sockets.add(socket);
        socket.on('close', () => this.#sockets.delete(socket));
        socket.on('error', () => {
          client.destroy();
          upstream.destroy();
        });
      }
      client.pipe(upstream);
      upstream.pipe(client);
    });
    await new Promise<void>((resolve) => this.#server?.listen(0, '127.0.0.1', resolve));
    this.port = (this.#server.address() as net.AddressInfo).port;
    return this;
  }

  /** `url` with its host and port replaced by the proxy's. */
  through(url: string): string {
    const parsed = new URL(url);
    parsed.hostname = '127.0.0.1';
    parsed.port = String(this.port);
    return parsed.toString();
  }

  cut(): void {
    this.#cut = true;
    for (const socket of this.#sockets) socket.destroy();
  }

  restore(): void {
    this.#cut = false;
  }

  async close(): Promise<void> {
    this.cut();
    await new Promise((resolve) => this.#server?.close(resolve));
  }
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Fetches `/metrics` and reads one metric's value. */
export async function metric(url: string, name: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const line = text.split('\n').find((entry) => entry.startsWith(`${name} `));
  return Number(line?.split(' ')[1] ?? Number.NaN);
}

export interface StoredRecord {
  request_id: string;
  status: number;
  error_code: string | null;
  prompt_tokens: number;
  completion_tokens: number;
  cost_usd: number;
  streamed: boolean;
}

/** Every usage record of a stopped Tollgate's database (PGlite in its data directory, or PostgreSQL). */
export async function storedRecords(database: { dataDir: string; databaseUrl?: string }): Promise<StoredRecord[]> {
  const { openStore, rawRows } = await import('../../src/store/db.ts');
  const { sql } = await import('drizzle-orm');
  const store = await openStore(database);
  try {
    return await rawRows<StoredRecord>(
      store.db,
      sql`select request_id, status, error_code, prompt_tokens, completion_tokens, cost_usd, streamed from usage_records`,
    );
  } finally {
    await store.close();
  }
}

/**
 * A raw HTTP/1.1 connection: `send` writes requests on it (pipelined, without waiting for
 * answers); `closed` resolves with everything the server sent, once it closes the connection
 * (or after `timeoutMs`).
 */
export function connection(url: string, timeoutMs = 20_000) {
  const { hostname, port } = new URL(url);
  const socket = net.connect(Number(port), hostname);
  const chunks: Buffer[] = [];
  socket.setTimeout(timeoutMs, () => socket.destroy());
  socket.on('data', (chunk) => chunks.push(chunk));
  socket.on('error', () => {});
  const closed = new Promise<string>((resolve) =>
    socket.on('close', () => resolve(Buffer.concat(chunks).toString('utf8'))),
  );
  return {
    send: (request: string) => socket.write(request),
    received: () => Buffer.concat(chunks).toString('utf8'),
    closed,
  };
}

/** An HTTP/1.1 request as text, keep-alive. */
export function httpRequest(url: string, method: string, path: string, headers: Record<string, string>, body = '') {
  const { host } = new URL(url);
  const lines = [`${method} ${path} HTTP/1.1`, `host: ${host}`];
  for (const [name, value] of Object.entries(headers)) lines.push(`${name}: ${value}`);
  if (body) lines.push(`content-length: ${Buffer.byteLength(body)}`);
  return `${lines.join('\r\n')}\r\n\r\n${body}`;
}

/** Whether a new TCP connection to the URL's port is refused. */
export function refused(url: string): Promise<boolean> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = net.connect(Number(port), hostname);
    socket.once('connect', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code === 'ECONNREFUSED'));
  });
}
