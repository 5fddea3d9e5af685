/**
 * The candidates of one run: the fake provider itself (`direct`), our floor proxy, Tollgate and
 * Portkey's gateway. Gateways run on the gateway core; the provider shares the load generator's.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { freshDatabase } from './database.ts';
import type { Target } from './measure.ts';
import { freePort, memoryMb, ROOT, type Started, startNode, waitForHttp } from './processes.ts';
import { configureTollgate, type RunningTollgate, startTollgate } from './tollgate.ts';

export const GATEWAY_CORE = 0;
export const LOAD_CORE = 1;

const CHAT = '/v1/chat/completions';
const PROVIDER_KEY = 'sk-bench';

export interface Provider extends Started {
  url: string;
}

export async function startProvider(): Promise<Provider> {
  const started = await startNode('fake provider', LOAD_CORE, ['--import', 'tsx', 'bench/fake-provider.ts'], {
    ready: /ready (\d+)/,
  });
  return { ...started, url: `http://127.0.0.1:${started.match![1]}` };
}

export function directTarget(provider: Provider): Target {
  return { name: 'direct', origin: provider.url, path: CHAT, headers: { authorization: `Bearer ${PROVIDER_KEY}` } };
}

export async function startFloor(provider: Provider): Promise<{ target: Target; process: Started }> {
  const started = await startNode(
    'floor proxy',
    GATEWAY_CORE,
    ['--import', 'tsx', 'bench/floor-proxy.ts', `--upstream=${provider.url}`],
    { ready: /ready (\d+)/ },
  );
  const target: Target = {
    name: 'floor',
    origin: `http://127.0.0.1:${started.match![1]}`,
    path: CHAT,
    headers: { authorization: `Bearer ${PROVIDER_KEY}` },
    pid: started.pid,
  };
  return { target, process: started };
}

/**
 * Tollgate on its own database, configured, then restarted: the first start on a fresh PGlite
 * directory runs initdb and peaks far higher than any later start, so it is measured apart
 * (`firstStartPeakRssMb`) and the candidate is the restarted process, as in production.
 */
export async function startTollgateCandidate(
  provider: Provider,
  nodeArgs: string[] = [],
): Promise<{ target: Target; process: RunningTollgate; firstStartPeakRssMb: number }> {
  const database = await freshDatabase();
  try {
    const first = await startTollgate(GATEWAY_CORE, { database });
    let key: string;
    let firstStartPeakRssMb: number;
    try {
      key = await configureTollgate(first, provider.url);
      firstStartPeakRssMb = memoryMb(first.pid).peak;
    } finally {
      await first.stop();
    }
    const tollgate = await startTollgate(GATEWAY_CORE, { database, nodeArgs });
    const target: Target = {
      name: 'tollgate',
      origin: tollgate.url,
      path: CHAT,
      headers: { authorization: `Bearer ${key}` },
      pid: tollgate.pid,
    };
    const close = async () => {
      await tollgate.stop();
      await database.drop();
    };
    return { target, process: { ...tollgate, close }, firstStartPeakRssMb };
  } catch (error) {
    await database.drop();
    throw error;
  }
}

const PORTKEY_ENTRY = path.join(ROOT, 'node_modules/@portkey-ai/gateway/build/start-server.js');

/**
 * Portkey's OSS gateway, or a note saying why it is left out. It must be started with
 * `--port=N` (it ignores PORT) and reaches an OpenAI-compatible server by two headers.
 */
export async function startPortkey(
  provider: Provider,
): Promise<{ target: Target; process: Started } | { skipped: string }> {
  if (!existsSync(PORTKEY_ENTRY)) return { skipped: '@portkey-ai/gateway is not installed (npm install)' };
  const port = await freePort();
  let started: Started | undefined;
  try {
    started = await startNode('portkey', GATEWAY_CORE, [PORTKEY_ENTRY, `--port=${port}`, '--headless'], {
      ready: /Ready for connections|running at/i,
    });
    const origin = `http://127.0.0.1:${port}`;
    await waitForHttp(`${origin}/`, 15_000).catch(() => {});
    const target: Target = {
      name: 'portkey',
      origin,
      path: CHAT,
      headers: {
        authorization: `Bearer ${PROVIDER_KEY}`,
        'x-portkey-provider': 'openai',
        'x-portkey-custom-host': `${provider.url}/v1`,
      },
      pid: started.pid,
    };
    await probe(target);
    return { target, process: started };
  } catch (error) {
    await started?.stop();
    return { skipped: `portkey could not be benchmarked: ${(error as Error).message.split('\n')[0]}` };
  }
}

/** One plain and one streamed call must both succeed before a candidate is measured. */
export async function probe(target: Target): Promise<void> {
  const headers = { ...target.headers, 'content-type': 'application/json' };
  const plain = await fetch(`${target.origin}${target.path}`, {
    method: 'POST',
    headers,
    body: JSON.stringify({ model: 'bench-model', messages: [{ role: 'user', content: 'hi' }] }),
  });
  if (plain.status !== 200) throw new Error(`${target.name}: chat call answered ${plain.status}`);
  await plain.arrayBuffer();
  const streamed = await fetch(`${target.origin}${target.path}`, {
    method: 'POST',
    headers,
    body: JSON.stringify({ model: 'bench-model', stream: true, messages: [{ role: 'user', content: 'hi' }] }),
  });
  const text = await streamed.text();
  if (streamed.status !== 200 || !text.includes('[DONE]')) {
    throw new Error(`${target.name}: streamed call answered ${streamed.status} without [DONE]`);
  }
}
