import { requireFields } from '../shared/refusals.ts';
import type { ResolvedCredential } from '../types.ts';
import { GEMINI_BASE_URL, gemini } from './spec.ts';

export type GeminiMethod = 'generateContent' | 'streamGenerateContent' | 'batchEmbedContents';

/** The model's resource name: `models/{id}` unless the id already names a resource (`tunedModels/…`). */
export function modelResource(model: string): string {
  return model.includes('/') ? model : `models/${model}`;
}

/**
 * Where a call goes and how it is authenticated: `{baseUrl}/models/{model}:{method}` with the key
 * in `x-goog-api-key` (never in the URL, where it would end up in access logs). Streams ask for
 * server-sent events; without `alt=sse` the API streams one long JSON array instead. A credential
 * without its key is a 502 `TG_ERR_PROVIDER_AUTH`.
 */
export function geminiEndpoint(
  credential: ResolvedCredential,
  model: string,
  method: GeminiMethod,
): { url: string; headers: Record<string, string> } {
  requireFields(gemini, credential);
  const base = (credential.settings.baseUrl || GEMINI_BASE_URL).replace(/\/+$/, '');
  const path = modelResource(model).split('/').map(encodeURIComponent).join('/');
  const query = method === 'streamGenerateContent' ? '?alt=sse' : '';
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  headers['x-goog-api-key'] = credential.secrets.apiKey as string;
  return { url: `${base}/${path}:${method}${query}`, headers };
}
