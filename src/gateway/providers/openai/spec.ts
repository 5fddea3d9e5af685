import type { ProviderSpec } from '../types.ts';

/** OpenAI itself: an API key, an optional organisation, and a base URL for proxies. */
export const openai: ProviderSpec = {
  id: 'openai',
  label: 'OpenAI',
  format: 'openai',
  endpoints: ['chat', 'embeddings', 'responses'],
  authMethods: [
    {
      id: 'api-key',
      label: 'API key',
      fields: [
        { name: 'apiKey', label: 'API key', secret: true, required: true },
        { name: 'baseUrl', label: 'Base URL', secret: false, required: false, default: 'https://api.openai.com/v1' },
        { name: 'organization', label: 'Organization ID', secret: false, required: false },
      ],
    },
  ],
};

/**
 * Any server that speaks OpenAI's API. Each entry differs only in its default base URL, so
 * adding one is one line in `COMPATIBLE`.
 */
const COMPATIBLE: Array<[id: string, label: string, baseUrl: string]> = [
  ['openai-compatible', 'OpenAI-compatible server', ''],
  ['mistral', 'Mistral', 'https://api.mistral.ai/v1'],
  ['groq', 'Groq', 'https://api.groq.com/openai/v1'],
  ['deepseek', 'DeepSeek', 'https://api.deepseek.com/v1'],
  ['xai', 'xAI', 'https://api.x.ai/v1'],
  ['together', 'Together AI', 'https://api.together.xyz/v1'],
  ['fireworks', 'Fireworks AI', 'https://api.fireworks.ai/inference/v1'],
  ['openrouter', 'OpenRouter', 'https://openrouter.ai/api/v1'],
  ['vllm', 'vLLM', 'http://localhost:8000/v1'],
  ['ollama', 'Ollama', 'http://localhost:11434/v1'],
  ['llamacpp', 'llama.cpp server', 'http://localhost:8080/v1'],
  ['lmstudio', 'LM Studio', 'http://localhost:1234/v1'],
];

export const openaiCompatible: ProviderSpec[] = COMPATIBLE.map(([id, label, baseUrl]) => ({
  id,
  label,
  format: 'openai',
  endpoints: ['chat', 'embeddings'],
  authMethods: [
    {
      id: 'api-key',
      label: 'API key',
      fields: [
        // Local servers usually need no key; hosted ones do, and say so with a 401.
        { name: 'apiKey', label: 'API key', secret: true, required: false },
        baseUrl
          ? { name: 'baseUrl', label: 'Base URL', secret: false, required: false, default: baseUrl }
          : { name: 'baseUrl', label: 'Base URL', secret: false, required: true },
      ],
    },
  ],
}));
