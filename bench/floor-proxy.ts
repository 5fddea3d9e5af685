/**
 * The floor: the least a Node gateway can add. It parses nothing; it pipes the request body to
 * the upstream over a keep-alive pool and pipes the response back as it arrives.
 *
 *   node --import tsx bench/floor-proxy.ts --port=N --upstream=http://127.0.0.1:M
 *
 * Prints `ready <port>` on stdout once listening.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { pipeline } from 'node:stream';
import { pathToFileURL } from 'node:url';
import { Pool } from 'undici';

/** Hop-by-hop headers: they describe one connection and must not be forwarded. */
const HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'upgrade', 'proxy-connection', 'te', 'host']);

function forwardable(headers: http.IncomingHttpHeaders | Record<string, string | string[] | undefined>) {
  const out: Record<string, string | string[]> = {};
  for (const name in headers) {
    const value = headers[name];
    if (value !== undefined && !HOP.has(name)) out[name] = value;
  }
  return out;
}

export function createFloorProxy(upstream: string): http.Server {
  const pool = new Pool(upstream, { connections: 256, keepAliveTimeout: 60_000, pipelining: 1 });
  return http.createServer({ noDelay: true, keepAliveTimeout: 60_000 }, (req, res) => {
    pool.request(
      { path: req.url ?? '/', method: req.method as 'POST', headers: forwardable(req.headers), body: req },
      (error, data) => {
        if (error) {
          if (!res.headersSent) res.writeHead(502, { 'content-type': 'application/json' });
          res.end(`{"error":{"message":${JSON.stringify(String(error.message))}}}`);
          return;
        }
        res.writeHead(data.statusCode, forwardable(data.headers));
        pipeline(data.body, res, () => {});
      },
    );
  });
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const arg = (name: string) => process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
  const upstream = arg('upstream');
  if (!upstream) throw new Error('--upstream=http://host:port is required');
  const server = createFloorProxy(upstream);
  server.listen(Number(arg('port') ?? 0), '127.0.0.1', () => {
    process.stdout.write(`ready ${(server.address() as AddressInfo).port}\n`);
  });
  process.on('SIGTERM', () => process.exit(0));
}
