import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance } from 'fastify';
import { TollgateError } from './errors.ts';

/** Where `npm run build:web` puts the dashboard. */
export const DASHBOARD_DIR = fileURLToPath(new URL('../web/dist/', import.meta.url));

/** Paths that belong to the API, the gateway and operations: never answered with the dashboard. */
const RESERVED = /^\/(api|v1|health|metrics)(\/|$)/;
/** Vite names built files by their content hash, so they can be cached for good. */
const IMMUTABLE = 'public, max-age=31536000, immutable';
/** index.html names the current hashed files: browsers must check it every time. */
const REVALIDATE = 'no-cache';

/**
 * Sent with every dashboard response. Scripts, styles, fonts and API calls come from this
 * origin only; styles may also be inline because Mantine injects <style> tags at run time.
 * The dashboard may not be framed (clickjacking), and no page address, which may hold a set-up
 * token, is sent to other sites as a referrer.
 */
export const DASHBOARD_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy': [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data: blob:",
    "font-src 'self' data:",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join('; '),
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'x-content-type-options': 'nosniff',
  'cross-origin-opener-policy': 'same-origin',
};

const NOT_BUILT = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Tollgate</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:40rem;margin:4rem auto;padding:0 1rem;color:#222}code{background:#f3f3f3;padding:2px 5px;border-radius:4px}</style>
</head><body><h1>Tollgate is running</h1>
<p>The web dashboard has not been built. Run <code>npm run build:web</code> (or <code>npm start</code>, which builds it when needed) and reload.</p>
<p>The gateway (<code>/v1</code>) and the admin API (<code>/api/v1</code>, described at <a href="/api/openapi.json">/api/openapi.json</a>) work without it.</p>
</body></html>`;

/**
 * Serves the dashboard at `/`: the built files as they are, and index.html for every other
 * GET that is not an API, gateway or operations path, so that the app's own routes
 * (/keys, /usage?key=…) load on a reload or from a link.
 */
export async function dashboardRoutes(app: FastifyInstance, options: { root?: string } = {}): Promise<void> {
  const root = options.root ?? DASHBOARD_DIR;
  const indexFile = path.join(root, 'index.html');
  const built = existsSync(indexFile);

  if (built) {
    await app.register(fastifyStatic, {
      root,
      // One route per built file (found at start-up) instead of a catch-all: the catch-all below
      // is the SPA fallback.
      wildcard: false,
      index: false,
      cacheControl: false,
      setHeaders(reply, file) {
        const inAssets = path.relative(root, file).startsWith(`assets${path.sep}`);
        reply.header('cache-control', inAssets ? IMMUTABLE : REVALIDATE);
        for (const [name, value] of Object.entries(DASHBOARD_HEADERS)) reply.header(name, value);
      },
    });
  }

  const page = async () => (built ? readFile(indexFile) : NOT_BUILT);
  app.get('/', { schema: { hide: true } }, async (_request, reply) =>
    reply
      .type('text/html; charset=utf-8')
      .header('cache-control', REVALIDATE)
      .headers(DASHBOARD_HEADERS)
      .send(await page()),
  );
  app.get('/*', { schema: { hide: true } }, async (request, reply) => {
    const pathname = request.url.split('?')[0] ?? request.url;
    // A missing file (a stale hashed asset, /robots.txt) is a 404, not the app.
    const looksLikeFile = /\.[a-z0-9]+$/i.test(pathname);
    if (RESERVED.test(pathname) || looksLikeFile) {
      throw new TollgateError('TG_ERR_ROUTE_NOT_FOUND', request.method, pathname);
    }
    return reply
      .type('text/html; charset=utf-8')
      .header('cache-control', REVALIDATE)
      .headers(DASHBOARD_HEADERS)
      .send(await page());
  });
}
