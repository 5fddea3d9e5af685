import { TollgateError } from '../../../errors.ts';
import { openaiFormatAdapter } from '../openai/index.ts';
import { AzureCredentialError } from './errors.ts';
import { azureRequest } from './request.ts';
import { azureSpec } from './spec.ts';

/**
 * Azure speaks OpenAI's format at its own URLs, with an api-key header or an Entra ID token. A
 * credential that cannot be used (misconfigured) or that Entra ID refuses is the administrator's
 * problem, like a refused key: 502 `TG_ERR_PROVIDER_AUTH`. Entra ID out of reach is the provider
 * being unreachable.
 */
export const azureAdapter = openaiFormatAdapter(azureSpec, async (credential, kind, upstreamModel) => {
  try {
    const { url, headers, deployment } = await azureRequest(credential, kind, upstreamModel);
    // On the v1 API, where the Responses API lives, the body names the deployment.
    return kind === 'responses' ? { url, headers, model: deployment } : { url, headers };
  } catch (error) {
    if (!(error instanceof AzureCredentialError)) throw error;
    if (error.reason === 'misconfigured' || error.reason === 'rejected') {
      throw new TollgateError('TG_ERR_PROVIDER_AUTH', 'azure', credential.name);
    }
    throw new TollgateError('TG_ERR_PROVIDER_UNREACHABLE', 'azure', `Entra ID token: ${error.message}`);
  }
});

export { EntraTokenCache, type EntraTokenCacheOptions } from './entra-token.ts';
export { AzureCredentialError, type AzureCredentialFailure } from './errors.ts';
export {
  type AzureEndpointKind,
  type AzureRequest,
  azureEndpoint,
  azureRequest,
  azureUrl,
  entraTokens,
} from './request.ts';
export {
  AZURE_DEFAULT_API_VERSION,
  azureSpec,
  ENTRA_DEFAULT_AUTHORITY,
  ENTRA_DEFAULT_SCOPE,
} from './spec.ts';
