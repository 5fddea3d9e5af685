import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sendError, toTollgateError } from '../../src/http-errors.ts';
import { dashboardRoutes } from '../../src/web.ts';
import { tempDir } from '../support/backends.ts';

/** A server like Tollgate's: JSON errors, an API route, and the dashboard from `root`. */
async function server(root: string): Promise<FastifyInstance> {
  const app = Fastify();
  app.setErrorHandler((error, request, reply) =>
    sendError(request, reply, toTollgateError(error as Error, request, 1e6)),
  );
  app.get('/api/v1/keys', async () => ({ keys: [] }));
  app.get('/health', async () => ({ status: 'ok' }));
  await dashboardRoutes(app, { root });
  await app.ready();
  return app;
}

describe('serving the dashboard', () => {
  let app: FastifyInstance;

  beforeAll(async () => {
    const root = tempDir('tollgate-web-');
    mkdirSync(path.join(root, 'assets'));
    writeFileSync(path.join(root, 'index.html'), '<!doctype html><div id="root"></div>');
    writeFileSync(path.join(root, 'assets', 'index-abc123.js'), 'console.log(1)');
    writeFileSync(path.join(root, 'favicon.svg'), '<svg/>');
    app = await server(root);
  });
  afterAll(() => app?.close());

  it('serves index.html at / and for every app route, to be checked on each visit', async () => {
    for (const url of ['/', '/keys', '/usage?key=3f1c', '/setup?token=abc', '/credentials/deep/link']) {
      const response = await app.inject(url);
      expect(response.statusCode, url).toBe(200);
      expect(response.headers['content-type']).toMatch(/^text\/html/);
      expect(response.headers['cache-control']).toBe('no-cache');
      expect(response.body).toContain('<div id="root">');
    }
  });

  it('serves hashed assets as immutable and other files as revalidated', async () => {
    const asset = await app.inject('/assets/index-abc123.js');
    expect(asset.statusCode).toBe(200);
    expect(asset.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    const icon = await app.inject('/favicon.svg');
    expect(icon.headers['cache-control']).toBe('no-cache');
  });

  it('sends a strict content security policy, no framing, no referrer and nosniff with every dashboard response', async () => {
    for (const url of ['/', '/keys', '/setup?token=abc', '/assets/index-abc123.js', '/favicon.svg']) {
      const { headers } = await app.inject(url);
      const csp = String(headers['content-security-policy']);
      expect(csp, url).toContain("default-src 'self'");
      expect(csp, url).toContain("script-src 'self';");
      expect(csp, url).not.toMatch(/script-src[^;]*unsafe/);
      expect(csp, url).toContain("frame-ancestors 'none'");
      expect(csp, url).toContain("object-src 'none'");
      expect(headers['x-frame-options'], url).toBe('DENY');
      expect(headers['referrer-policy'], url).toBe('no-referrer');
      expect(headers['x-content-type-options'], url).toBe('nosniff');
    }
  });

  it('never answers API, gateway or missing-file paths with the app', async () => {
    expect((await app.inject('/api/v1/keys')).json()).toEqual({ keys: [] });
    expect((await app.inject('/health')).json()).toEqual({ status: 'ok' });
    for (const url of [
      '/api/v1/nothing',
      '/api',
      '/v1/models-typo',
      '/metrics/x',
      '/assets/index-old.js',
      '/robots.txt',
    ]) {
      const response = await app.inject(url);
      expect(response.statusCode, url).toBe(404);
      expect(response.json().error.code, url).toBe('route_not_found');
    }
    expect((await app.inject({ method: 'POST', url: '/keys' })).statusCode).toBe(404);
  });

  it('explains how to build the dashboard when it is not built', async () => {
    const bare = await server(tempDir('tollgate-web-empty-'));
    const response = await bare.inject('/keys');
    expect(response.statusCode).toBe(200);
    expect(response.body).toContain('npm run build:web');
    await bare.close();
  });
});
