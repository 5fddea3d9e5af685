import { TollgateError } from '../../../errors.ts';
import type { ProviderSpec, ResolvedCredential } from '../types.ts';

/**
 * The two ways an adapter says no, one convention for every provider:
 *
 * - the request asks for something the provider cannot take (a tool type, a content part, an
 *   image format, `n > 1`): a 400 `TG_ERR_UNSUPPORTED_BY_PROVIDER`, whose message is for the caller;
 * - the credential cannot be used (a secret or setting missing or malformed, a bad Azure
 *   endpoint, Entra ID refusing a token): a 502 `TG_ERR_PROVIDER_AUTH`, the administrator's
 *   problem, never the caller's, and a reason to fall back to the next target.
 *
 * Anything else an adapter throws while building a call is a bug: dispatch lets it through to
 * the error handler, which answers a generic 500.
 */
export function unsupported(provider: string, detail: string): TollgateError {
  return new TollgateError('TG_ERR_UNSUPPORTED_BY_PROVIDER', provider, detail);
}

export function misconfigured(credential: ResolvedCredential, problem: string): TollgateError {
  return new TollgateError('TG_ERR_PROVIDER_AUTH', credential.provider, credential.name, problem);
}

/** Refuses a credential that lacks a field its authentication method requires. */
export function requireFields(spec: ProviderSpec, credential: ResolvedCredential): void {
  const method = spec.authMethods.find((candidate) => candidate.id === credential.authMethod) ?? spec.authMethods[0];
  const missing = (method?.fields ?? [])
    .filter((field) => field.required && !field.default)
    .filter((field) => !(field.secret ? credential.secrets[field.name] : credential.settings[field.name]))
    .map((field) => field.name);
  if (missing.length > 0) throw misconfigured(credential, `no ${missing.join(', ')}`);
}
