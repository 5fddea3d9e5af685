import type { ResolvedCredential, UpstreamRequest } from '../types.ts';

/** Where to send an OpenAI-format call for this credential, with the credential's own auth. */
export function openaiRequest(credential: ResolvedCredential, path: string, defaultBaseUrl: string): UpstreamRequest {
  const base = (credential.settings.baseUrl || defaultBaseUrl).replace(/\/+$/, '');
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  const apiKey = credential.secrets.apiKey;
  if (apiKey) headers.authorization = `Bearer ${apiKey}`;
  if (credential.settings.organization) headers['openai-organization'] = credential.settings.organization;
  return { url: `${base}${path}`, headers };
}
