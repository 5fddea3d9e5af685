import type { ProviderSpec } from '../types.ts';

/** The newest generally available data-plane API version with chat completions and embeddings. */
export const AZURE_DEFAULT_API_VERSION = '2024-10-21';
/** Microsoft Entra ID's public-cloud authority; sovereign clouds have their own. */
export const ENTRA_DEFAULT_AUTHORITY = 'https://login.microsoftonline.com';
/** The token audience for Azure OpenAI (Azure AI services) resources. */
export const ENTRA_DEFAULT_SCOPE = 'https://cognitiveservices.azure.com/.default';

const endpoint = {
  name: 'endpoint',
  label: 'Endpoint (https://{resource}.openai.azure.com)',
  secret: false,
  required: true,
} as const;
const apiVersion = {
  name: 'apiVersion',
  label: 'API version ("v1" for the v1 API)',
  secret: false,
  required: false,
  default: AZURE_DEFAULT_API_VERSION,
} as const;
const deployment = {
  name: 'deployment',
  label: "Deployment (default: the target's upstream model)",
  secret: false,
  required: false,
} as const;

/**
 * Azure OpenAI speaks OpenAI's body format; only the URL (a deployment and an API version) and
 * the authentication differ: an API key in `api-key`, or an Entra ID bearer token obtained with
 * a service principal's client credentials.
 */
export const azureSpec: ProviderSpec = {
  id: 'azure',
  label: 'Azure OpenAI',
  format: 'openai',
  endpoints: ['chat', 'embeddings', 'responses'],
  authMethods: [
    {
      id: 'api-key',
      label: 'API key',
      fields: [endpoint, { name: 'apiKey', label: 'API key', secret: true, required: true }, apiVersion, deployment],
    },
    {
      id: 'entra',
      label: 'Microsoft Entra ID (client credentials)',
      fields: [
        endpoint,
        { name: 'tenantId', label: 'Tenant (directory) ID', secret: false, required: true },
        { name: 'clientId', label: 'Client (application) ID', secret: false, required: true },
        { name: 'clientSecret', label: 'Client secret', secret: true, required: true },
        apiVersion,
        deployment,
        {
          name: 'authorityHost',
          label: 'Authority host',
          secret: false,
          required: false,
          default: ENTRA_DEFAULT_AUTHORITY,
        },
        { name: 'scope', label: 'Token scope', secret: false, required: false, default: ENTRA_DEFAULT_SCOPE },
      ],
    },
  ],
};
