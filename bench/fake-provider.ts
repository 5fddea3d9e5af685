/**
 * A fast OpenAI-compatible provider for benchmarks: every answer is a Buffer made once at
 * start-up, so the provider costs as little as possible and the same for every candidate.
 *
 *   node --import tsx bench/fake-provider.ts --port=N [--chunks=50 --gap-ms=10]
 *
 * Prints `ready <port>` on stdout once listening. POST .../chat/completions answers JSON, or
 * with `"stream":true` in the body an SSE stream of `chunks` events `gap-ms` apart (the first at
 * once), then a usage event when `"include_usage":true`, then `data: [DONE]`.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { pathToFileURL } from 'node:url';

const CREATED = 1_700_000_000;
const USAGE = { prompt_tokens: 12, completion_tokens: 50, total_tokens: 62 };

function jsonResponse(): Buffer {
  return Buffer.from(
    JSON.stringify({
      id: 'chatcmpl-bench',
      object: 'chat.completion',
      created: CREATED,
      model: 'bench-upstream',
      choices: [
        {
          index: 0,
          message: { role: 'assistant', content: 'Hello from the benchmark provider. '.repeat(4) },
          logprobs: null,
          finish_reason: 'stop',
        },
      ],
      usage: USAGE,
    }),
  );
}

function event(data: unknown): Buffer {
  return Buffer.from(`data: ${JSON.stringify(data)}\n\n`);
}

function streamEvents(chunks: number): { chunks: Buffer[]; usage: Buffer; done: Buffer } {
  const base = { id: 'chatcmpl-bench', object: 'chat.completion.chunk', created: CREATED, model: 'bench-upstream' };
  const out: Buffer[] = [];
  for (let i = 0; i < chunks; i++) {
    const last = i === chunks - 1;
    const delta = i === 0 ? { role: 'assistant', content: 'tok0 ' } : last ? {} : { content: `tok${i} ` };
    out.push(event({ ...base, choices: [{ index: 0, delta, logprobs: null, finish_reason: last ? 'stop' : null }] }));
  }
  return { chunks: out, usage: event({ ...base, choices: [], usage: USAGE }), done: Buffer.from('data: [DONE]\n\n') };
}

const STREAM_MARK = Buffer.from('"stream":true');
const USAGE_MARK = Buffer.from('"include_usage":true');

export interface FakeProviderOptions {
  port?: number;
  chunks?: number;
  gapMs?: number;
}

export function createFakeProvider(options: FakeProviderOptions = {}): http.Server {
  const json = jsonResponse();
  const jsonHeaders = { 'content-type': 'application/json', 'content-length': String(json.length) };
  const sse = streamEvents(options.chunks ?? 50);
  const gapMs = options.gapMs ?? 10;
  const models = Buffer.from(JSON.stringify({ object: 'list', data: [{ id: 'bench-upstream', object: 'model' }] }));

  const stream = (res: http.ServerResponse, withUsage: boolean): void => {
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    const started = performance.now();
    let i = 0;
    const tick = (): void => {
      if (res.destroyed) return;
      res.write(sse.chunks[i++]);
      if (i < sse.chunks.length) {
        // Scheduled against the start, so timer lateness does not pile up over 50 chunks.
        setTimeout(tick, Math.max(0, started + i * gapMs - performance.now()));
        return;
      }
      if (withUsage) res.write(sse.usage);
      res.end(sse.done);
    };
    tick();
  };

  const server = http.createServer({ noDelay: true, keepAliveTimeout: 60_000 }, (req, res) => {
    if (req.method === 'GET') {
      if (req.url === '/health') res.writeHead(200).end('ok');
      else res.writeHead(200, { 'content-type': 'application/json' }).end(models);
      req.resume();
      return;
    }
    const parts: Buffer[] = [];
    req.on('data', (part: Buffer) => parts.push(part));
    req.on('end', () => {
      const body = parts.length === 1 ? parts[0]! : Buffer.concat(parts);
      if (!req.url?.endsWith('/chat/completions')) {
        res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":{"message":"not found"}}');
      } else if (body.indexOf(STREAM_MARK) >= 0) {
        stream(res, body.indexOf(USAGE_MARK) >= 0);
      } else {
        res.writeHead(200, jsonHeaders).end(json);
      }
    });
  });
  server.headersTimeout = 60_000;
  server.requestTimeout = 0;
  return server;
}

function flag(name: string, fallback: number): number {
  const found = process.argv.find((arg) => arg.startsWith(`--${name}=`));
  return found ? Number(found.slice(name.length + 3)) : fallback;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const server = createFakeProvider({ chunks: flag('chunks', 50), gapMs: flag('gap-ms', 10) });
  server.listen(flag('port', 0), '127.0.0.1', () => {
    process.stdout.write(`ready ${(server.address() as AddressInfo).port}\n`);
  });
  process.on('SIGTERM', () => process.exit(0));
}
