/**
 * The three ways a candidate is measured: one request at a time with microsecond timing,
 * many at once with autocannon, and streams timed event by event.
 */
import autocannon from 'autocannon';
import { Client } from 'undici';
import { cpuMs } from './processes.ts';

/** Where and how to send a chat call to one candidate. */
export interface Target {
  name: string;
  origin: string;
  path: string;
  headers: Record<string, string>;
  /** The gateway's node process, for CPU and memory; none for `direct`. */
  pid?: number;
}

export function chatBody(options: { stream?: boolean; contentBytes?: number } = {}): Buffer {
  const content = options.contentBytes ? 'x'.repeat(options.contentBytes) : 'Say hello.';
  const body = options.stream
    ? { model: 'bench-model', stream: true, stream_options: { include_usage: true }, messages: [] as unknown[] }
    : { model: 'bench-model', messages: [] as unknown[] };
  body.messages.push({ role: 'user', content });
  return Buffer.from(JSON.stringify(body));
}

/** A JSON chat body of about `bytes` bytes in all. */
export function chatBodyOfSize(bytes: number): Buffer {
  const overhead = chatBody({ contentBytes: 1 }).length - 1;
  return chatBody({ contentBytes: Math.max(1, bytes - overhead) });
}

function client(origin: string): Client {
  return new Client(origin, { keepAliveTimeout: 60_000, pipelining: 1, bodyTimeout: 60_000, headersTimeout: 60_000 });
}

export interface LatencyResult {
  /** Whole-response times in microseconds, one per successful request. */
  samples: number[];
  errors: number;
  statuses: Record<string, number>;
}

/**
 * Sends `count` requests one after another over one keep-alive connection and times each to
 * the last byte of its response. `authorization(i)` may give each request its own key.
 */
export async function sequentialLatency(
  target: Target,
  body: Buffer,
  count: number,
  authorization?: (i: number) => string,
): Promise<LatencyResult> {
  const connection = client(target.origin);
  const result: LatencyResult = { samples: [], errors: 0, statuses: {} };
  const headers: Record<string, string> = { ...target.headers, 'content-type': 'application/json' };
  try {
    // One untimed request opens the connection, so that no sample includes a TCP handshake.
    await (await connection.request({ path: '/', method: 'GET' })).body.dump();
    for (let i = 0; i < count; i++) {
      if (authorization) headers.authorization = authorization(i);
      const started = process.hrtime.bigint();
      try {
        const response = await connection.request({ path: target.path, method: 'POST', headers, body });
        await response.body.arrayBuffer();
        const elapsed = Number(process.hrtime.bigint() - started) / 1000;
        result.statuses[response.statusCode] = (result.statuses[response.statusCode] ?? 0) + 1;
        if (response.statusCode === 200) result.samples.push(elapsed);
        else result.errors++;
      } catch {
        result.errors++;
      }
    }
  } finally {
    await connection.close().catch(() => {});
  }
  return result;
}

export interface ThroughputResult {
  requests: number;
  seconds: number;
  rps: number;
  /** Response times of every 2xx response, in microseconds. */
  samples: number[];
  non2xx: number;
  errors: number;
  /** CPU time (user + system) the gateway used in this phase, in milliseconds. */
  cpuMs?: number;
}

/** Keeps `connections` requests in flight for `seconds` and counts what comes back. */
export async function throughput(
  target: Target,
  body: Buffer,
  connections: number,
  seconds: number,
): Promise<ThroughputResult> {
  const samples: number[] = [];
  const cpuBefore = target.pid ? cpuMs(target.pid) : 0;
  const started = performance.now();
  const result: any = await new Promise((resolve, reject) => {
    const options = {
      url: `${target.origin}${target.path}`,
      method: 'POST' as const,
      headers: { ...target.headers, 'content-type': 'application/json' },
      body,
      connections,
      pipelining: 1,
      duration: seconds,
      timeout: 30,
    };
    const instance = autocannon(options, (error, done) => (error ? reject(error) : resolve(done)));
    instance.on('response', (_client: unknown, status: number, _bytes: number, ms: number) => {
      if (status >= 200 && status < 300) samples.push(ms * 1000);
    });
  });
  const elapsed = (performance.now() - started) / 1000;
  const ok = result['2xx'] as number;
  return {
    requests: ok,
    seconds: elapsed,
    rps: ok / elapsed,
    samples,
    non2xx: result.non2xx as number,
    errors: result.errors as number,
    ...(target.pid && { cpuMs: cpuMs(target.pid) - cpuBefore }),
  };
}

export interface StreamResult {
  /** Time to the first event, in microseconds, one per stream. */
  ttfc: number[];
  /** Time between consecutive content events, in microseconds. */
  gaps: number[];
  events: number[];
  errors: number;
}

/**
 * Runs `streams` streaming calls, `parallel` at a time. Each event is stamped when its closing
 * blank line arrives; gaps are taken between the `contentEvents` content events only (the usage
 * event and `[DONE]` follow the last one at once).
 */
export async function streaming(
  target: Target,
  streams: number,
  parallel: number,
  contentEvents: number,
): Promise<StreamResult> {
  const body = chatBody({ stream: true });
  const headers = { ...target.headers, 'content-type': 'application/json' };
  const result: StreamResult = { ttfc: [], gaps: [], events: [], errors: 0 };
  let next = 0;
  const worker = async () => {
    const connection = client(target.origin);
    try {
      await (await connection.request({ path: '/', method: 'GET' })).body.dump();
      while (next < streams) {
        next++;
        const started = process.hrtime.bigint();
        const stamps: bigint[] = [];
        try {
          const response = await connection.request({ path: target.path, method: 'POST', headers, body });
          let carry = '';
          for await (const chunk of response.body) {
            const now = process.hrtime.bigint();
            const text = carry + (chunk as Buffer).toString('latin1');
            let at = text.indexOf('\n\n');
            let last = -1;
            while (at >= 0) {
              stamps.push(now);
              last = at;
              at = text.indexOf('\n\n', at + 2);
            }
            carry = last >= 0 ? text.slice(last + 2).slice(-1) : text.slice(-1);
          }
          if (response.statusCode !== 200 || stamps.length < contentEvents) {
            result.errors++;
            continue;
          }
        } catch {
          result.errors++;
          continue;
        }
        result.events.push(stamps.length);
        result.ttfc.push(Number(stamps[0]! - started) / 1000);
        for (let i = 1; i < contentEvents; i++) result.gaps.push(Number(stamps[i]! - stamps[i - 1]!) / 1000);
      }
    } finally {
      await connection.close().catch(() => {});
    }
  };
  await Promise.all(Array.from({ length: parallel }, worker));
  return result;
}
