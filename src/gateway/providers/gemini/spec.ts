import type { ProviderSpec } from '../types.ts';

export const GEMINI_BASE_URL = 'https://generativelanguage.googleapis.com/v1beta';

/** Google Gemini through the Generative Language API (AI Studio keys). */
export const gemini: ProviderSpec = {
  id: 'gemini',
  label: 'Google Gemini',
  format: 'gemini',
  endpoints: ['chat', 'embeddings'],
  authMethods: [
    {
      id: 'api-key',
      label: 'API key',
      fields: [
        { name: 'apiKey', label: 'API key', secret: true, required: true },
        { name: 'baseUrl', label: 'Base URL', secret: false, required: false, default: GEMINI_BASE_URL },
      ],
    },
  ],
};
