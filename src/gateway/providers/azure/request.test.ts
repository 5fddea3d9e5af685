import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeAzure } from '../../../../test/support/fake-azure.ts';
import type { ResolvedCredential } from '../types.ts';
import { AzureCredentialError, azureEndpoint, azureRequest, azureSpec, azureUrl, EntraTokenCache } from './index.ts';

const API_KEY = 'azure-key-0123456789abcdef';
const CLIENT_SECRET = 'Xy7~entra.secret_value-0123456789';

function credential(overrides: Partial<ResolvedCredential> = {}): ResolvedCredential {
  return {
    id: 'cred-1',
    name: 'azure-prod',
    provider: 'azure',
    authMethod: 'api-key',
    secrets: { apiKey: API_KEY },
    settings: { endpoint: 'https://contoso.openai.azure.com' },
    ...overrides,
  };
}

describe('Azure OpenAI URLs', () => {
  it('addresses a deployment with the API version as a query parameter', () => {
    expect(azureUrl('https://contoso.openai.azure.com', '2024-10-21', 'gpt-4o', 'chat')).toBe(
      'https://contoso.openai.azure.com/openai/deployments/gpt-4o/chat/completions?api-version=2024-10-21',
    );
    expect(azureUrl('https://contoso.openai.azure.com', '2024-10-21', 'embed-small', 'embeddings')).toBe(
      'https://contoso.openai.azure.com/openai/deployments/embed-small/embeddings?api-version=2024-10-21',
    );
  });

  it('uses OpenAI paths under /openai/v1 for the v1 API', () => {
    expect(azureUrl('https://contoso.openai.azure.com', 'v1', 'gpt-4o', 'chat')).toBe(
      'https://contoso.openai.azure.com/openai/v1/chat/completions',
    );
  });

  it('serves the Responses API on the v1 paths whatever the API version (it has no deployment path)', () => {
    for (const version of ['v1', '2024-10-21', '2025-04-01-preview']) {
      expect(azureUrl('https://contoso.openai.azure.com', version, 'gpt-4o', 'responses')).toBe(
        'https://contoso.openai.azure.com/openai/v1/responses',
      );
    }
  });

  it('escapes deployment names', () => {
    expect(azureUrl('https://x.openai.azure.com', '2024-10-21', 'a b/c', 'chat')).toContain('/deployments/a%20b%2Fc/');
  });

  it('accepts endpoints with a trailing slash, an /openai suffix or an API-management prefix', () => {
    expect(azureEndpoint('https://contoso.openai.azure.com/', 'c')).toBe('https://contoso.openai.azure.com');
    expect(azureEndpoint(' https://contoso.openai.azure.com/openai/ ', 'c')).toBe('https://contoso.openai.azure.com');
    expect(azureEndpoint('https://apim.example.com/aoai', 'c')).toBe('https://apim.example.com/aoai');
  });

  it('refuses a missing or malformed endpoint with a message naming the credential', () => {
    expect(() => azureEndpoint(undefined, 'azure-prod')).toThrow(/"azure-prod" has no endpoint/);
    expect(() => azureEndpoint('contoso', 'azure-prod')).toThrow(/not a URL/);
    expect(() => azureEndpoint('ftp://contoso', 'azure-prod')).toThrow(AzureCredentialError);
    expect(() => azureEndpoint('https://contoso.openai.azure.com?api-version=1', 'azure-prod')).toThrow(/plain/);
  });
});

describe('azureRequest with an API key', () => {
  it('sends the key in api-key, the default API version, and the upstream model as deployment', async () => {
    const call = await azureRequest(credential(), 'chat', 'gpt-4o');
    expect(call.url).toBe(
      'https://contoso.openai.azure.com/openai/deployments/gpt-4o/chat/completions?api-version=2024-10-21',
    );
    expect(call.headers).toEqual({ 'content-type': 'application/json', 'api-key': API_KEY });
    expect(call.deployment).toBe('gpt-4o');
  });

  it('prefers the deployment and API version settings', async () => {
    const call = await azureRequest(
      credential({
        settings: {
          endpoint: 'https://contoso.openai.azure.com',
          apiVersion: '2025-04-01-preview',
          deployment: 'prod',
        },
      }),
      'embeddings',
      'text-embedding-3-small',
    );
    expect(call.url).toBe(
      'https://contoso.openai.azure.com/openai/deployments/prod/embeddings?api-version=2025-04-01-preview',
    );
  });

  it('refuses a credential without a key', async () => {
    await expect(azureRequest(credential({ secrets: {} }), 'chat', 'gpt-4o')).rejects.toMatchObject({
      reason: 'misconfigured',
    });
  });

  it('declares both auth methods with their secret fields', () => {
    const fields = Object.fromEntries(
      azureSpec.authMethods.map((method) => [method.id, method.fields.filter((f) => f.secret).map((f) => f.name)]),
    );
    expect(fields).toEqual({ 'api-key': ['apiKey'], entra: ['clientSecret'] });
    expect(azureSpec.format).toBe('openai');
  });
});

describe('against a fake Azure resource and Entra ID', () => {
  let azure: FakeAzure;
  beforeAll(async () => {
    azure = await new FakeAzure({
      apiKey: API_KEY,
      tenantId: 'contoso.onmicrosoft.com',
      clientId: '11111111-2222-3333-4444-555555555555',
      clientSecret: CLIENT_SECRET,
    }).start();
  });
  afterAll(() => azure.close());

  const entra = (overrides: Record<string, string> = {}, secret = CLIENT_SECRET): ResolvedCredential =>
    credential({
      id: `entra-${JSON.stringify(overrides)}-${secret}`,
      authMethod: 'entra',
      secrets: { clientSecret: secret },
      settings: {
        endpoint: azure.endpoint,
        tenantId: 'contoso.onmicrosoft.com',
        clientId: '11111111-2222-3333-4444-555555555555',
        authorityHost: azure.authorityHost,
        ...overrides,
      },
    });

  async function send(call: { url: string; headers: Record<string, string> }, body: unknown) {
    const response = await fetch(call.url, { method: 'POST', headers: call.headers, body: JSON.stringify(body) });
    return { status: response.status, body: (await response.json()) as any };
  }

  it('answers a chat completion called with an API key', async () => {
    const call = await azureRequest(credential({ settings: { endpoint: azure.endpoint } }), 'chat', 'gpt-4o');
    const { status, body } = await send(call, { model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] });
    expect(status).toBe(200);
    expect(body.object).toBe('chat.completion');
    expect(azure.calls.at(-1)?.deployment).toBe('gpt-4o');
  });

  it('streams a chat completion in Azure shape, usage last when asked for', async () => {
    const call = await azureRequest(credential({ settings: { endpoint: azure.endpoint } }), 'chat', 'gpt-4o');
    const response = await fetch(call.url, {
      method: 'POST',
      headers: call.headers,
      body: JSON.stringify({ messages: [], stream: true, stream_options: { include_usage: true } }),
    });
    const events = (await response.text()).split('\n\n').filter(Boolean);
    expect(response.headers.get('content-type')).toBe('text/event-stream');
    expect(JSON.parse(events[0]!.slice(6)).prompt_filter_results).toBeDefined();
    expect(JSON.parse(events.at(-2)!.slice(6)).usage.total_tokens).toBe(11);
    expect(events.at(-1)).toBe('data: [DONE]');
  });

  it('answers embeddings called with an Entra ID token', async () => {
    const call = await azureRequest(entra(), 'embeddings', 'text-embedding-3-small', new EntraTokenCache());
    expect(call.headers.authorization).toMatch(/^Bearer fake-entra-/);
    expect(call.headers['api-key']).toBeUndefined();
    const { status, body } = await send(call, { input: ['one two'] });
    expect(status).toBe(200);
    expect(body.data).toHaveLength(1);
    const form = azure.tokenCalls.at(-1)?.form;
    expect(form?.get('grant_type')).toBe('client_credentials');
    expect(form?.get('scope')).toBe('https://cognitiveservices.azure.com/.default');
  });

  it('gets 401 from the resource with a wrong key', async () => {
    const call = await azureRequest(
      credential({ secrets: { apiKey: 'wrong' }, settings: { endpoint: azure.endpoint } }),
      'chat',
      'gpt-4o',
    );
    expect((await send(call, { messages: [] })).status).toBe(401);
  });

  it('reports a wrong client secret as rejected, without the secret in the message', async () => {
    const wrong = 'Wrong~secret.value-0987654321';
    const error = await azureRequest(entra({}, wrong), 'chat', 'gpt-4o', new EntraTokenCache()).catch((e) => e);
    expect(error).toBeInstanceOf(AzureCredentialError);
    expect(error.reason).toBe('rejected');
    expect(error.status).toBe(401);
    expect(error.message).toContain('azure-prod');
    expect(error.message).toContain('AADSTS7000215');
    expect(error.message).not.toContain(wrong);
    expect(error.message).not.toContain(CLIENT_SECRET);
    expect(JSON.stringify(error)).not.toContain(wrong);
  });

  it('reports an unknown tenant as rejected', async () => {
    const error = await azureRequest(entra({ tenantId: 'nobody' }), 'chat', 'x', new EntraTokenCache()).catch((e) => e);
    expect(error.reason).toBe('rejected');
    expect(error.message).toContain('AADSTS90002');
  });

  it('reports an unreachable token endpoint without the secret', async () => {
    const error = await azureRequest(
      entra({ authorityHost: 'http://127.0.0.1:1' }),
      'chat',
      'x',
      new EntraTokenCache(),
    ).catch((e) => e);
    expect(error.reason).toBe('unreachable');
    expect(error.message).toMatch(/could not be reached/);
    expect(error.message).not.toContain(CLIENT_SECRET);
  });

  it('refuses an entra credential missing its settings before any request', async () => {
    const before = azure.tokenCalls.length;
    const error = await azureRequest(
      credential({ authMethod: 'entra', secrets: {}, settings: { endpoint: azure.endpoint } }),
      'chat',
      'x',
    ).catch((e) => e);
    expect(error.reason).toBe('misconfigured');
    expect(error.message).toMatch(/missing tenantId, clientId, clientSecret/);
    expect(azure.tokenCalls.length).toBe(before);
  });
});
