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
