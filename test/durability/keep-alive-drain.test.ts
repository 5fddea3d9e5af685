import { Agent, request } from 'undici';
import { afterAll, describe, expect, it } from 'vitest';
import { tempDir } from '../support/backends.ts';
import { FakeOpenAI } from '../support/fake-openai.ts';
import { publishMetered } from '../support/metered.ts';
import { startTollgate } from '../support/tollgate.ts';

const SECRET = 'sk-keep-alive-secret-000111222333';

/**
 * A stop with a long grace ends as soon as nothing is in flight: connections kept alive by
 * clients whose requests ended during the drain are closed, not waited on until the grace ends.
 */
describe('stopping with keep-alive clients', () => {
  const provider = new FakeOpenAI(SECRET);
  afterAll(() => provider.close());

  it('closes connections whose requests ended during the drain, without waiting for the grace', async () => {
    await provider.start();
    const tollgate = await startTollgate({ dataDir: tempDir() }, { TOLLGATE_SHUTDOWN_GRACE: '30' });
    await publishMetered(tollgate.admin, provider, { slow: 'slow-300' });
    const apiKey = (await tollgate.admin('POST', '/api/v1/keys', { name: 'keep-alive' })).body.key as string;
    const agent = new Agent({ keepAliveTimeout: 60_000, connections: 20 });
    const call = () =>
      request(`${tollgate.url}/v1/chat/completions`, {
        dispatcher: agent,
        method: 'POST',
        headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'slow', messages: [{ role: 'user', content: 'hi' }] }),
      }).then(async (response) => {
        await response.body.dump();
        return response.statusCode;
      });
    // Twenty connections, each busy with a call when the stop begins; the calls end ~300 ms later
    // and their connections stay open on the client's side.
    const calls = Array.from({ length: 20 }, call);
    await new Promise((resolve) => setTimeout(resolve, 100));
    const started = Date.now();
    await tollgate.close();
    const took = Date.now() - started;
    expect(await Promise.all(calls)).toEqual(Array(20).fill(200));
    expect(took).toBeLessThan(5000);
    await agent.close();
  }, 60_000);
});
