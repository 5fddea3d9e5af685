import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeAzure } from '../../../test/support/fake-azure.ts';
import type { ChatRequest } from './adapter.ts';
import { providerAdapter } from './registry.ts';
import type { ResolvedCredential } from './types.ts';

/**
 * One throwing convention for every adapter (providers/shared/refusals.ts): a credential that
 * cannot be used is a 502 `TG_ERR_PROVIDER_AUTH` naming it, never a 400 the caller can do nothing
 * about; a request the provider cannot take is a 400 `TG_ERR_UNSUPPORTED_BY_PROVIDER`.
 */

const hi: ChatRequest = { model: 'm', messages: [{ role: 'user', content: 'Hi' }] };

function credential(provider: string, overrides: Partial<ResolvedCredential> = {}): ResolvedCredential {
  return {
    id: `${provider}-1`,
    name: `${provider}-prod`,
    provider,
    authMethod: '',
    secrets: {},
    settings: {},
    ...overrides,
  };
}

function adapter(id: string) {
  const found = providerAdapter(id);
  if (!found) throw new Error(`no adapter ${id}`);
  return found;
}

const authFailure = (name: string, problem: RegExp) => ({
  code: 'TG_ERR_PROVIDER_AUTH',
  status: 502,
  message: expect.stringMatching(new RegExp(`"${name}".*${problem.source}.*an administrator must update it`)),
});

describe('a misconfigured credential is a 502 provider_auth', () => {
  it('anthropic: no API key', async () => {
    const call = adapter('anthropic').chatRequest(hi, credential('anthropic'), false);
    await expect(call).rejects.toMatchObject(authFailure('anthropic-prod', /no apiKey/));
  });

  it('gemini: no API key, for chat and embeddings', async () => {
    const gemini = adapter('gemini');
    await expect(gemini.chatRequest(hi, credential('gemini'), true)).rejects.toMatchObject(
      authFailure('gemini-prod', /no apiKey/),
    );
    await expect(
      gemini.embeddingsRequest?.({ model: 'text-embedding-004', input: 'x' }, credential('gemini')),
    ).rejects.toMatchObject(authFailure('gemini-prod', /no apiKey/));
  });

  it('bedrock: missing keys or region, or a region that is not one', async () => {
    const bedrock = adapter('bedrock');
    await expect(
      bedrock.chatRequest(hi, credential('bedrock', { secrets: { accessKeyId: 'AKIA' } }), false),
    ).rejects.toMatchObject(authFailure('bedrock-prod', /no secretAccessKey, region/));
    const badRegion = credential('bedrock', {
      secrets: { accessKeyId: 'AKIA', secretAccessKey: 's' },
      settings: { region: 'evil.example.com/#' },
    });
    await expect(bedrock.chatRequest(hi, badRegion, false)).rejects.toMatchObject(
      authFailure('bedrock-prod', /invalid region/),
    );
  });

  it('azure: no endpoint, a malformed endpoint, no key, an unknown auth method, entra without its settings', async () => {
    const azure = adapter('azure');
    const cases: Array<Partial<ResolvedCredential>> = [
      { authMethod: 'api-key', secrets: { apiKey: 'k' } },
      { authMethod: 'api-key', secrets: { apiKey: 'k' }, settings: { endpoint: 'contoso' } },
      { authMethod: 'api-key', settings: { endpoint: 'https://contoso.openai.azure.com' } },
      { authMethod: 'saml', secrets: { apiKey: 'k' }, settings: { endpoint: 'https://contoso.openai.azure.com' } },
      { authMethod: 'entra', settings: { endpoint: 'https://contoso.openai.azure.com' } },
    ];
    for (const overrides of cases) {
      await expect(azure.chatRequest(hi, credential('azure', overrides), false)).rejects.toMatchObject({
        code: 'TG_ERR_PROVIDER_AUTH',
        status: 502,
        message: expect.stringContaining('"azure-prod"'),
      });
    }
  });

  describe('azure: Entra ID refusing the client credentials', () => {
    const CLIENT_SECRET = 'Xy7~entra.secret_value-0123456789';
    let fake: FakeAzure;
    beforeAll(async () => {
      fake = await new FakeAzure({
        apiKey: 'unused',
        tenantId: 'contoso.onmicrosoft.com',
        clientId: '11111111-2222-3333-4444-555555555555',
        clientSecret: CLIENT_SECRET,
      }).start();
    });
    afterAll(() => fake.close());

    it('is a 502 provider_auth that shows neither secret', async () => {
      const wrong = 'Wrong~secret.value-0987654321';
      const refused = credential('azure', {
        id: 'azure-refused',
        authMethod: 'entra',
        secrets: { clientSecret: wrong },
        settings: {
          endpoint: fake.endpoint,
          tenantId: 'contoso.onmicrosoft.com',
          clientId: '11111111-2222-3333-4444-555555555555',
          authorityHost: fake.authorityHost,
        },
      });
      const error = await adapter('azure')
        .chatRequest(hi, refused, false)
        .catch((e: unknown) => e);
      expect(error).toMatchObject({ code: 'TG_ERR_PROVIDER_AUTH', status: 502 });
      expect((error as Error).message).not.toContain(wrong);
      expect((error as Error).message).not.toContain(CLIENT_SECRET);
    });
  });
});

describe('a request the provider cannot take is a 400 unsupported_by_provider', () => {
  const unsupported = (provider: string) => ({
    code: 'TG_ERR_UNSUPPORTED_BY_PROVIDER',
    status: 400,
    message: expect.stringMatching(new RegExp(`^Provider ${provider} cannot take this request: `)),
  });
  const withTool: ChatRequest = { ...hi, tools: [{ type: 'web_search' }] };

  it('anthropic, gemini and bedrock refuse a tool type they do not have', async () => {
    const anthropic = credential('anthropic', { secrets: { apiKey: 'k' } });
    await expect(adapter('anthropic').chatRequest(withTool, anthropic, false)).rejects.toMatchObject(
      unsupported('anthropic'),
    );
    const gemini = credential('gemini', { secrets: { apiKey: 'k' } });
    await expect(adapter('gemini').chatRequest(withTool, gemini, false)).rejects.toMatchObject(unsupported('gemini'));
    const bedrock = credential('bedrock', {
      secrets: { accessKeyId: 'AKIA', secretAccessKey: 's' },
      settings: { region: 'us-east-1' },
    });
    await expect(adapter('bedrock').chatRequest(withTool, bedrock, false)).rejects.toMatchObject(
      unsupported('bedrock'),
    );
    await expect(adapter('bedrock').chatRequest({ ...hi, n: 2 }, bedrock, false)).rejects.toMatchObject(
      unsupported('bedrock'),
    );
  });

  it('gemini refuses embeddings of something other than text', async () => {
    const gemini = credential('gemini', { secrets: { apiKey: 'k' } });
    await expect(
      adapter('gemini').embeddingsRequest?.({ model: 'text-embedding-004', input: [[1, 2, 3]] }, gemini),
    ).rejects.toMatchObject(unsupported('gemini'));
  });
});
