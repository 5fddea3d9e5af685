import type { ProviderSpec } from '../types.ts';

export const DEFAULT_BASE_URL = 'https://api.anthropic.com';

/** Anthropic's Messages API: an API key, and a base URL for proxies and compatible servers. */
export const anthropic: ProviderSpec = {
  id: 'anthropic',
  label: 'Anthropic',
  format: 'anthropic',
  endpoints: ['chat'],
  authMethods: [
    {
      id: 'api-key',
      label: 'API key',
      fields: [
        { name: 'apiKey', label: 'API key', secret: true, required: true },
        { name: 'baseUrl', label: 'Base URL', secret: false, required: false, default: DEFAULT_BASE_URL },
      ],
    },
  ],
};
