import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { FakeAzure } from '../../../../test/support/fake-azure.ts';
import type { ResolvedCredential } from '../types.ts';
import { EntraTokenCache } from './entra-token.ts';
import { azureRequest } from './request.ts';

const SECRET = 'Zq8~client.secret-value_0123456789';
const CLIENT_ID = '99999999-8888-7777-6666-555555555555';

function makeFake(tokenLifetimeSeconds: number) {
  return new FakeAzure({
    apiKey: 'unused',
    tenantId: 'tenant-1',
    clientId: CLIENT_ID,
    clientSecret: SECRET,
    tokenLifetimeSeconds,
  });
}

function entra(fake: FakeAzure, id = 'cred-entra', secret = SECRET): ResolvedCredential {
  return {
    id,
    name: 'azure-entra',
    provider: 'azure',
    authMethod: 'entra',
    secrets: { clientSecret: secret },
    settings: { endpoint: fake.endpoint, tenantId: 'tenant-1', clientId: CLIENT_ID, authorityHost: fake.authorityHost },
  };
}

const settle = () => new Promise((resolve) => setTimeout(resolve, 50));

describe('Entra ID token cache (10-minute tokens, simulated clock)', () => {
  let fake: FakeAzure;
  let now: number;
  let cache: EntraTokenCache;
  beforeAll(async () => {
    fake = await makeFake(600).start();
  });
  afterAll(() => fake.close());
  beforeEach(() => {
    now = 1_000_000;
    cache = new EntraTokenCache({ now: () => now });
    fake.tokenDelayMs = 0;
    fake.tokenFailures = 0;
  });

  it('fetches once and serves the cached token without I/O', async () => {
    const before = fake.tokenCalls.length;
    const first = await cache.token(entra(fake));
    now += 4 * 60_000;
    expect(await cache.token(entra(fake))).toBe(first);
    expect(fake.tokenCalls.length - before).toBe(1);
  });

  it('makes concurrent callers share one token request', async () => {
    fake.tokenDelayMs = 100;
    const before = fake.tokenCalls.length;
    const tokens = await Promise.all(Array.from({ length: 20 }, () => cache.token(entra(fake))));
    expect(new Set(tokens).size).toBe(1);
    expect(fake.tokenCalls.length - before).toBe(1);
  });

  it('refreshes five minutes before expiry while callers keep the valid token', async () => {
    const before = fake.tokenCalls.length;
    const first = await cache.token(entra(fake));
    now += 5 * 60_000 + 1_000;
    // Inside the refresh window: the current token is returned at once, a refresh starts.
    expect(await cache.token(entra(fake))).toBe(first);
    expect(await cache.token(entra(fake))).toBe(first);
    await settle();
    expect(fake.tokenCalls.length - before).toBe(2);
    const second = await cache.token(entra(fake));
    expect(second).not.toBe(first);
  });

  it('waits for a new token once the old one is about to expire', async () => {
    const first = await cache.token(entra(fake));
    now += 10 * 60_000;
    const second = await cache.token(entra(fake));
    expect(second).not.toBe(first);
  });

  it('keeps the valid token when a refresh fails and retries later', async () => {
    const first = await cache.token(entra(fake));
    const before = fake.tokenCalls.length;
    fake.tokenFailures = 1;
    now += 6 * 60_000;
    expect(await cache.token(entra(fake))).toBe(first);
    await settle();
    expect(fake.tokenCalls.length - before).toBe(1);
    // Within the retry pause nothing is requested again.
    expect(await cache.token(entra(fake))).toBe(first);
    await settle();
    expect(fake.tokenCalls.length - before).toBe(1);
    now += 11_000;
    expect(await cache.token(entra(fake))).toBe(first);
    await settle();
    expect(fake.tokenCalls.length - before).toBe(2);
    expect(await cache.token(entra(fake))).not.toBe(first);
  });

  it('surfaces a failure when no valid token is left', async () => {
    fake.tokenFailures = 1;
    const error = await cache.token(entra(fake)).catch((e) => e);
    expect(error.reason).toBe('unreachable');
    expect(error.status).toBe(503);
    expect(error.message).not.toContain(SECRET);
    // The next call tries again and succeeds.
    expect(await cache.token(entra(fake))).toMatch(/^fake-entra-/);
  });

  it('fetches a new token when the credential is edited', async () => {
    const first = await cache.token(entra(fake));
    const edited = entra(fake, 'cred-entra', 'Edited~secret-value');
    await expect(cache.token(edited)).rejects.toMatchObject({ reason: 'rejected' });
    expect(await cache.token(entra(fake))).not.toBe(first);
  });

  it('keeps tokens per credential', async () => {
    const a = await cache.token(entra(fake, 'a'));
    const b = await cache.token(entra(fake, 'b'));
    expect(a).not.toBe(b);
    cache.forget('a');
    expect(await cache.token(entra(fake, 'a'))).not.toBe(a);
  });
});

describe('Entra ID token cache with short-lived tokens (real clock)', () => {
  let fake: FakeAzure;
  beforeAll(async () => {
    fake = await makeFake(1).start();
  });
  afterAll(() => fake.close());

  it('never hands out a token the resource would refuse as expired', async () => {
    const cache = new EntraTokenCache();
    const credential = entra(fake);
    for (let round = 0; round < 3; round++) {
      const call = await azureRequest(credential, 'chat', 'gpt-4o', cache);
      const response = await fetch(call.url, {
        method: 'POST',
        headers: call.headers,
        body: JSON.stringify({ messages: [{ role: 'user', content: 'hi' }] }),
      });
      expect(response.status).toBe(200);
      await new Promise((resolve) => setTimeout(resolve, 600));
    }
    expect(fake.tokenCalls.length).toBeGreaterThanOrEqual(2);
  });
});
