import type { ResolvedCredential, UpstreamRequest } from '../types.ts';
import { EntraTokenCache } from './entra-token.ts';
import { AzureCredentialError } from './errors.ts';
import { AZURE_DEFAULT_API_VERSION } from './spec.ts';

export type AzureEndpointKind = 'chat' | 'embeddings' | 'responses';

const PATHS: Record<AzureEndpointKind, string> = {
  chat: 'chat/completions',
  embeddings: 'embeddings',
  responses: 'responses',
};

/** Entra ID tokens of every Azure credential in this process. */
export const entraTokens = new EntraTokenCache();

/**
 * The resource endpoint without a trailing slash or `/openai` suffix, so that
 * `https://x.openai.azure.com/`, `https://x.openai.azure.com/openai` and an API-management
 * prefix such as `https://apim.example.com/aoai` all work.
 */
export function azureEndpoint(raw: string | undefined, credentialName: string): string {
  const text = (raw ?? '').trim();
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new AzureCredentialError(
      'misconfigured',
      text
        ? `Azure credential "${credentialName}": endpoint "${text}" is not a URL (expected https://{resource}.openai.azure.com)`
        : `Azure credential "${credentialName}" has no endpoint (expected https://{resource}.openai.azure.com)`,
    );
  }
  if ((url.protocol !== 'https:' && url.protocol !== 'http:') || url.search || url.hash || url.username) {
    throw new AzureCredentialError(
      'misconfigured',
      `Azure credential "${credentialName}": endpoint must be a plain https:// URL such as https://{resource}.openai.azure.com`,
    );
  }
  const path = url.pathname.replace(/\/+$/, '').replace(/\/openai(\/v1)?$/, '');
  return `${url.origin}${path}`;
}

/**
 * The URL of one call. Dated API versions address a deployment:
 * `{endpoint}/openai/deployments/{deployment}/chat/completions?api-version=…`; the `v1` API has
 * OpenAI's own paths under `{endpoint}/openai/v1/` and takes the deployment as the body's `model`.
 */
export function azureUrl(endpoint: string, apiVersion: string, deployment: string, kind: AzureEndpointKind): string {
  // The Responses API has no deployment path: Azure serves it on the v1 API, whatever dated
  // version the credential's chat and embeddings use.
  if (apiVersion.toLowerCase() === 'v1' || kind === 'responses') return `${endpoint}/openai/v1/${PATHS[kind]}`;
  return `${endpoint}/openai/deployments/${encodeURIComponent(deployment)}/${PATHS[kind]}?api-version=${encodeURIComponent(apiVersion)}`;
}

export interface AzureRequest extends UpstreamRequest {
  /** The deployment called: the `deployment` setting, or else the target's upstream model. */
  deployment: string;
}

/**
 * Where to send a chat or embeddings call for an Azure credential, with its authentication:
 * `api-key: …` for the API-key method, `Authorization: Bearer …` with a cached Entra ID token for
 * the `entra` method. The body is OpenAI's, unchanged; with the `v1` API its `model` must be
 * `deployment`. Throws {@link AzureCredentialError} when the credential cannot authenticate.
 */
export async function azureRequest(
  credential: ResolvedCredential,
  kind: AzureEndpointKind,
  upstreamModel: string,
  tokens: EntraTokenCache = entraTokens,
): Promise<AzureRequest> {
  const endpoint = azureEndpoint(credential.settings.endpoint, credential.name);
  const apiVersion = credential.settings.apiVersion?.trim() || AZURE_DEFAULT_API_VERSION;
  const deployment = credential.settings.deployment?.trim() || upstreamModel;
  if (!deployment) {
    throw new AzureCredentialError(
      'misconfigured',
      `Azure credential "${credential.name}": no deployment (set "deployment" or the target's upstream model)`,
    );
  }
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  const method = credential.authMethod || 'api-key';
  if (method === 'api-key') {
    const apiKey = credential.secrets.apiKey;
    if (!apiKey) throw new AzureCredentialError('misconfigured', `Azure credential "${credential.name}" has no apiKey`);
    headers['api-key'] = apiKey;
  } else if (method === 'entra') {
    headers.authorization = `Bearer ${await tokens.token(credential)}`;
  } else {
    throw new AzureCredentialError(
      'misconfigured',
      `Azure credential "${credential.name}" uses unknown auth method "${method}" (expected api-key or entra)`,
    );
  }
  return { url: azureUrl(endpoint, apiVersion, deployment, kind), headers, deployment };
}
