import { openai, openaiCompatible } from './openai/spec.ts';
import type { AuthMethod, CredentialField, ProviderSpec } from './types.ts';

/** Every provider Tollgate can reach. Adding one is a folder and one entry here. */
export const PROVIDERS: ReadonlyMap<string, ProviderSpec> = new Map(
  [openai, ...openaiCompatible].map((spec) => [spec.id, spec]),
);

export function providerSpec(id: string): ProviderSpec | undefined {
  return PROVIDERS.get(id);
}

export function authMethod(spec: ProviderSpec, id: string | undefined): AuthMethod | undefined {
  return id === undefined ? spec.authMethods[0] : spec.authMethods.find((method) => method.id === id);
}

export function defaultOf(method: AuthMethod, field: string): string {
  return method.fields.find((candidate: CredentialField) => candidate.name === field)?.default ?? '';
}
