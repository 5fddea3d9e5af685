import { describe, expect, it } from 'vitest';
import type { Exchange } from '../../exchange.ts';
import { providerAdapter } from '../../providers/registry.ts';
import type { ResolvedCredential } from '../../providers/types.ts';
import type { Target } from '../../routing/model-registry.ts';
import { responsesDoor } from './index.ts';

function target(provider: string, settings: Record<string, string>, upstreamModel = 'gpt-4.1'): Target {
  const adapter = providerAdapter(provider);
  if (!adapter) throw new Error(`no adapter ${provider}`);
  const credential: ResolvedCredential = {
    id: `cred-${provider}`,
    name: provider,
    provider,
    authMethod: 'api-key',
    secrets: { apiKey: 'secret-key' },
    settings,
  };
  return { id: 't', credential, provider, adapter, upstreamModel, weight: 1, position: 0, timeoutMs: null };
}

const exchange = (grantedMaxTokens?: number) => ({ grantedMaxTokens }) as Exchange;
const body = { model: 'gpt', input: 'Hi', max_output_tokens: 500, store: true, previous_response_id: 'resp_1' };

describe('the Responses door', () => {
  it('passes bodies through to providers that serve the Responses API themselves, and only those', () => {
    expect(responsesDoor.native(target('openai', {}))).toBe(true);
    expect(responsesDoor.native(target('azure', { endpoint: 'https://contoso.openai.azure.com' }))).toBe(true);
    for (const provider of ['anthropic', 'gemini', 'bedrock', 'mistral', 'vllm']) {
      expect(responsesDoor.native(target(provider, { baseUrl: 'http://x' })), provider).toBe(false);
    }
  });

  it("sends OpenAI the caller's body untouched but for the model id and the output cap", async () => {
    const call = await responsesDoor.nativeRequest(
      body,
      target('openai', { baseUrl: 'https://proxy.example.com/v1/' }),
      exchange(120),
      false,
    );
    expect(call.url).toBe('https://proxy.example.com/v1/responses');
    expect(call.headers.authorization).toBe('Bearer secret-key');
    expect(JSON.parse(String(call.body))).toEqual({ ...body, model: 'gpt-4.1', max_output_tokens: 120 });
  });

  it('keeps the caller’s own cap when the budget did not lower it, and asks for a stream', async () => {
    const call = await responsesDoor.nativeRequest(body, target('openai', {}), exchange(), true);
    expect(call.url).toBe('https://api.openai.com/v1/responses');
    expect(JSON.parse(String(call.body))).toMatchObject({ max_output_tokens: 500, stream: true });
  });

  it("sends Azure's v1 Responses API the deployment as the model, whatever the credential's API version", async () => {
    const azure = target(
      'azure',
      { endpoint: 'https://contoso.openai.azure.com/', apiVersion: '2024-10-21', deployment: 'prod-gpt' },
      'gpt-4.1',
    );
    const call = await responsesDoor.nativeRequest(body, azure, exchange(), false);
    expect(call.url).toBe('https://contoso.openai.azure.com/openai/v1/responses');
    expect(call.headers['api-key']).toBe('secret-key');
    expect(JSON.parse(String(call.body)).model).toBe('prod-gpt');
  });

  it('refuses, for a target that only speaks chat, a body that needs state kept at OpenAI', () => {
    const refusal = responsesDoor.untranslatable?.(body, target('anthropic', {}));
    expect(refusal).toMatchObject({ code: 'TG_ERR_UNSUPPORTED_BY_PROVIDER', status: 400 });
    expect(refusal?.message).toMatch(/^Provider anthropic cannot take this request: "previous_response_id"/);
    expect(responsesDoor.untranslatable?.({ model: 'gpt', input: 'Hi' }, target('anthropic', {}))).toBeUndefined();
  });
});
