import type { ProviderSpec } from '../types.ts';

/**
 * AWS Bedrock through the Converse API, signed with SigV4. The region picks the endpoint
 * (`bedrock-runtime.<region>.amazonaws.com`); `baseUrl` overrides it for VPC endpoints,
 * proxies and tests, and is signed as given.
 */
export const bedrock: ProviderSpec = {
  id: 'bedrock',
  label: 'AWS Bedrock',
  format: 'bedrock',
  endpoints: ['chat'],
  authMethods: [
    {
      id: 'access-key',
      label: 'Access key',
      fields: [
        { name: 'accessKeyId', label: 'Access key ID', secret: true, required: true },
        { name: 'secretAccessKey', label: 'Secret access key', secret: true, required: true },
        { name: 'sessionToken', label: 'Session token', secret: true, required: false },
        { name: 'region', label: 'Region', secret: false, required: true },
        { name: 'baseUrl', label: 'Endpoint URL', secret: false, required: false },
      ],
    },
  ],
};
