import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../support/backends.ts';
import { type RawResponse, rawRequest } from '../support/raw-http.ts';
import { ADMIN_TOKEN, type RunningTollgate, startTollgate } from '../support/tollgate.ts';

/**
 * Every admin route from the OpenAPI document, reached by every path trick an attacker tries
 * against a URL-string check — percent-encoding of each character, double encoding, absolute-form
 * targets, `//`, `/./`, `..`, trailing dots and slashes, case changes, `;` parameters — with no
 * credentials. Authentication is attached to the routes, so none may answer 2xx, and none may
 * reach a handler (a handler's 400/403/404 would show it had been reached).
 */

const encode = (char: string) =>
  [...Buffer.from(char, 'utf8')].map((byte) => `%${byte.toString(16).toUpperCase().padStart(2, '0')}`).join('');

function pathVariants(path: string, origin: string): string[] {
  const variants = new Set<string>();
  for (let i = 0; i < path.length; i++) {
    const char = path[i] as string;
    if (char === '/') continue;
    variants.add(path.slice(0, i) + encode(char) + path.slice(i + 1));
    variants.add(path.slice(0, i) + encode(char).toLowerCase() + path.slice(i + 1));
    variants.add(path.slice(0, i) + encode(char).replace('%', '%25') + path.slice(i + 1));
  }
  variants.add(
    path
      .split('/')
      .map((part) => [...part].map(encode).join(''))
      .join('/'),
  );
  const [, api, v1, ...rest] = path.split('/');
  const tail = rest.join('/');
  for (const variant of [
    `http://x${path}`,
    `HTTP://X${path}`,
    `${origin}${path}`,
    `http://x:1${path}`,
    `/${path}`,
    `//x${path}`,
    `/${api}//${v1}/${tail}`,
    `/${api}/${v1}//${tail}`,
    `/./${api}/${v1}/${tail}`,
    `/${api}/./${v1}/${tail}`,
    `/${api}/${v1}/./${tail}`,
    `/x/../${api}/${v1}/${tail}`,
    `/${api}/x/../${v1}/${tail}`,
    `/%2e/${api}/${v1}/${tail}`,
    `/${api}/${v1}/%2e/${tail}`,
    `/${api}/x/%2e%2e/${v1}/${tail}`,
    `/${api}%2f${v1}/${tail}`,
    `/${api}%2F${v1}%2F${tail}`,
    `/${api}\\${v1}\\${tail}`,
    `${path}/`,
    `${path}//`,
    `${path}.`,
    `${path}/.`,
    `${path}..`,
    `${path}%20`,
    `${path}%00`,
    `${path}%09`,
    `${path}?`,
    `${path}?x=1`,
    `${path}#`,
    `${path};`,
    `${path};x=1`,
    `/${api};x/${v1}/${tail}`,
    `/${api}/${v1};x/${tail}`,
    `/${api}/${v1};/${tail}`,
    `/${api?.toUpperCase()}/${v1}/${tail}`,
    `/${api}/${v1?.toUpperCase()}/${tail}`,
    `/${api}/${v1}/${tail.toUpperCase()}`,
    `/A${api?.slice(1)}/${v1}/${tail}`,
    `/${api}./${v1}/${tail}`,
    `/${api}/${v1}./${tail}`,
    `/${api}/${v1} /${tail}`,
  ]) {
    variants.add(variant);
  }
  return [...variants];
}

const isDashboardShell = (answer: RawResponse) =>
  /content-type: text\/html/i.test(answer.head) && answer.body.toLowerCase().startsWith('<!doctype html>');

describe('admin API path and target tricks, without credentials', () => {
  let tg: RunningTollgate;
  const routes: { method: string; path: string }[] = [];
  let secrets: string[] = [];

  beforeAll(async () => {
    tg = await startTollgate({ dataDir: tempDir() });
    // Real objects behind every parametrised path, so that a bypass would find something.
    const project = await tg.admin('POST', '/api/v1/projects', { name: 'hostile-project' });
    const key = await tg.admin('POST', '/api/v1/keys', { name: 'hostile-key' });
    const user = await tg.admin('POST', '/api/v1/users', { email: 'victim@example.com', role: 'member' });
    const credential = await tg.admin('POST', '/api/v1/credentials', {
      name: 'hostile-credential',
      provider: 'openai',
      fields: { apiKey: 'sk-hostile-0123456789' },
    });
    const model = await tg.admin('POST', '/api/v1/models', {
      name: 'hostile-model',
      targets: [{ credential: 'hostile-credential', upstreamModel: 'gpt-4o' }],
    });
    for (const created of [project, key, user, credential, model]) expect(created.status).toBe(201);
    secrets = ['hostile-project', 'hostile-key', 'victim@example.com', 'hostile-credential', 'hostile-model'];
    const ids: Record<string, string> = {
      id: key.body.id,
      ref: user.body.id,
    };
    const refs: Record<string, string> = {
      '/api/v1/projects/{ref}': project.body.id,
      '/api/v1/credentials/{ref}': credential.body.id,
      '/api/v1/models/{ref}': model.body.id,
    };
    const document = await (await fetch(`${tg.url}/api/openapi.json`)).json();
    for (const [template, operations] of Object.entries(document.paths as Record<string, object>)) {
      if (!template.startsWith('/api/v1/')) continue;
      const path = template.replace(/\{(\w+)\}/g, (_match, name: string) => refs[template] ?? ids[name] ?? name);
      const query = template === '/api/v1/usage/top' ? '?by=model' : '';
      for (const method of Object.keys(operations)) routes.push({ method: method.toUpperCase(), path: path + query });
    }
  }, 60_000);
  afterAll(async () => {
    await tg?.close();
  });

  // `/users/me` is the signed-in user, which an admin token is not: 404 for it.
  it('finds the admin routes, and each answers the admin token (so the tricks below aim at something real)', async () => {
    expect(routes.length).toBeGreaterThanOrEqual(25);
    for (const { method, path } of routes.filter(
      (route) => route.method === 'GET' && !route.path.endsWith('/users/me'),
    )) {
      const answer = await rawRequest(tg.url, method, path, { authorization: `Bearer ${ADMIN_TOKEN}` });
      expect(answer.status, `${method} ${path}`).toBe(200);
    }
  });

  it('answers every trick with 401 or "no such route", never with a handler', async () => {
    const reached: string[] = [];
    let tried = 0;
    for (const { method, path } of routes) {
      const variants = pathVariants(path, tg.url);
      for (let i = 0; i < variants.length; i += 16) {
        const answers = await Promise.all(
          variants.slice(i, i + 16).map(async (target) => ({
            target,
            answer: await rawRequest(tg.url, method, target, {}, method === 'POST' || method === 'PATCH' ? '{}' : ''),
          })),
        );
        for (const { target, answer } of answers) {
          tried++;
          const code = /"code":\s*"([^"]+)"/.exec(answer.body)?.[1];
          const refused =
            (answer.status === 401 && code === 'admin_unauthorized') ||
            (answer.status === 404 && code === 'route_not_found') ||
            // Node refuses malformed request targets before any routing.
            (answer.status === 400 && /"message":"Client Error"/.test(answer.body)) ||
            // The dashboard's page shell, which every other GET gets: no data in it.
            (method === 'GET' && answer.status === 200 && isDashboardShell(answer));
          const leaked = secrets.filter((secret) => answer.body.includes(secret));
          if (leaked.length > 0) reached.push(`${method} ${target} leaked ${leaked.join(', ')}`);
          if (!refused) reached.push(`${method} ${target} → ${answer.status} ${answer.body.slice(0, 120)}`);
        }
      }
    }
    expect(tried).toBeGreaterThan(1000);
    expect(reached).toEqual([]);
  }, 120_000);
});
