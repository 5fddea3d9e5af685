import type { ProviderAdapter } from './adapter.ts';
import { anthropicAdapter } from './anthropic/index.ts';
import { azureAdapter } from './azure/index.ts';
import { bedrockAdapter } from './bedrock/index.ts';
import { geminiAdapter } from './gemini/index.ts';
import { baseUrlEndpoint, openaiFormatAdapter } from './openai/index.ts';
import { openai, openaiCompatible } from './openai/spec.ts';
import type { AuthMethod, CredentialField, ProviderSpec } from './types.ts';

export function authMethod(spec: ProviderSpec, id: string | undefined): AuthMethod | undefined {
  return id === undefined ? spec.authMethods[0] : spec.authMethods.find((method) => method.id === id);
}

export function defaultOf(method: AuthMethod, field: string): string {
  return method.fields.find((candidate: CredentialField) => candidate.name === field)?.default ?? '';
}

/** OpenAI-format providers whose endpoint is `{baseUrl}/…` with a bearer key. */
function viaBaseUrl(spec: ProviderSpec): ProviderAdapter {
  return openaiFormatAdapter(spec, baseUrlEndpoint(defaultOf(spec.authMethods[0] as AuthMethod, 'baseUrl')));
}

/** Every provider Tollgate can reach. Adding one is a folder and one entry here. */
export const ADAPTERS: ReadonlyMap<string, ProviderAdapter> = new Map(
  [
    viaBaseUrl(openai),
    azureAdapter,
    anthropicAdapter,
    geminiAdapter,
    bedrockAdapter,
    ...openaiCompatible.map(viaBaseUrl),
  ].map((adapter) => [adapter.spec.id, adapter]),
);

export const PROVIDERS: ReadonlyMap<string, ProviderSpec> = new Map(
  [...ADAPTERS.values()].map((adapter) => [adapter.spec.id, adapter.spec]),
);

export function providerSpec(id: string): ProviderSpec | undefined {
  return PROVIDERS.get(id);
}

export function providerAdapter(id: string): ProviderAdapter | undefined {
  return ADAPTERS.get(id);
}
