import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { documentYaml, type ExportSource, exportDocument } from './export.ts';
import { checkDocument, readConfig } from './parse.ts';

const PROVIDERS: ExportSource['providers'] = [
  {
    id: 'openai',
    authMethods: [{ id: 'api-key', fields: [{ name: 'apiKey' }, { name: 'baseUrl' }, { name: 'organization' }] }],
  },
  {
    id: 'azure',
    authMethods: [
      { id: 'api-key', fields: [{ name: 'apiKey' }, { name: 'endpoint' }, { name: 'apiVersion' }] },
      {
        id: 'entra',
        fields: [{ name: 'endpoint' }, { name: 'tenantId' }, { name: 'clientId' }, { name: 'clientSecret' }],
      },
    ],
  },
];

const SOURCE: ExportSource = {
  organization: {
    name: 'Acme',
    spendLimit: { recurring: { usd: 2000, count: 1, unit: 'month', startedAt: '2030-01-01T00:00:00.000Z' } },
  },
  credentials: [
    {
      name: 'openai-production',
      provider: 'openai',
      authMethod: 'api-key',
      secrets: { apiKey: 'sk-••••abcd' },
      settings: { organization: 'org-1', baseUrl: 'https://proxy.example/v1' },
    },
    {
      name: 'azure-entra',
      provider: 'azure',
      authMethod: 'entra',
      secrets: { clientSecret: '••••' },
      settings: { endpoint: 'https://x.openai.azure.com', tenantId: 't', clientId: 'c' },
    },
  ],
  models: [
    {
      name: 'gpt-4o',
      inputPrice: 2.5,
      outputPrice: 10,
      cachedInputPrice: 1.25,
      cacheWriteInputPrice: null,
      cacheWrite1hInputPrice: null,
      retries: 1,
      maxOutputTokens: 16384,
      targets: [
        {
          credential: 'openai-production',
          provider: 'openai',
          upstreamModel: 'gpt-4o',
          weight: 1,
          priority: 0,
          timeoutMs: null,
        },
        {
          credential: 'azure-entra',
          provider: 'azure',
          upstreamModel: 'gpt-4o',
          weight: 3,
          priority: 0,
          timeoutMs: 5000,
        },
      ],
    },
    {
      name: 'claude',
      inputPrice: 3,
      outputPrice: 15,
      cachedInputPrice: null,
      cacheWriteInputPrice: null,
      cacheWrite1hInputPrice: null,
      retries: 2,
      maxOutputTokens: null,
      targets: [
        {
          credential: 'openai-production',
          provider: 'anthropic',
          upstreamModel: 'claude-sonnet-4-5',
          weight: 1,
          priority: 0,
          timeoutMs: null,
        },
      ],
    },
  ],
  projects: [
    { name: 'default', plan: 'enterprise', keyLimitOverride: null, keysPerUser: null, spendLimit: {} },
    { name: 'research', plan: 'pro', keyLimitOverride: 25, keysPerUser: 1, spendLimit: { allTimeUsd: 5000 } },
  ],
  providers: PROVIDERS,
};

describe('exporting a tollgate.yaml', () => {
  const { document, variables } = exportDocument(SOURCE);

  it('writes each secret as a reference to an environment variable, and lists the variables', () => {
    expect(document.credentials?.[0]).toEqual({
      name: 'openai-production',
      provider: 'openai',
      // In the order the provider declares its fields.
      fields: { apiKey: `\${OPENAI_PRODUCTION_API_KEY}`, baseUrl: 'https://proxy.example/v1', organization: 'org-1' },
    });
    expect(document.credentials?.[1]).toMatchObject({
      authMethod: 'entra',
      fields: { clientSecret: `\${AZURE_ENTRA_CLIENT_SECRET}` },
    });
    expect(variables).toEqual([
      { variable: 'OPENAI_PRODUCTION_API_KEY', credential: 'openai-production', field: 'apiKey' },
      { variable: 'AZURE_ENTRA_CLIENT_SECRET', credential: 'azure-entra', field: 'clientSecret' },
    ]);
    expect(JSON.stringify(document)).not.toContain('••••');
  });

  it('writes only what differs from what applying would give anyway, prices always', () => {
    expect(document.models?.[0]).toEqual({
      name: 'gpt-4o',
      targets: [
        { credential: 'openai-production', upstreamModel: 'gpt-4o' },
        { credential: 'azure-entra', upstreamModel: 'gpt-4o', weight: 3, priority: 0, timeoutMs: 5000 },
      ],
      inputPrice: 2.5,
      outputPrice: 10,
      cachedInputPrice: 1.25,
    });
    // Claude's cache prices would be derived from the input price; none stays none.
    expect(document.models?.[1]).toEqual({
      name: 'claude',
      targets: [{ credential: 'openai-production', upstreamModel: 'claude-sonnet-4-5' }],
      inputPrice: 3,
      outputPrice: 15,
      cachedInputPrice: null,
      cacheWriteInputPrice: null,
      cacheWrite1hInputPrice: null,
      retries: 2,
      maxOutputTokens: null,
    });
    expect(document.projects).toEqual([
      { name: 'default', plan: 'enterprise' },
      { name: 'research', plan: 'pro', keyLimit: 25, keysPerUser: 1, spendLimit: { allTimeUsd: 5000 } },
    ]);
    expect(document.organization).toEqual({ name: 'Acme', spendLimit: { recurring: { usd: 2000, window: '1mo' } } });
  });

  it('makes YAML that reads back as the same document and that a file is allowed to be', () => {
    const text = documentYaml(document, variables);
    expect(text).toMatch(/^# tollgate\.yaml: apply with/);
    expect(text).toContain('#   OPENAI_PRODUCTION_API_KEY  (openai-production: apiKey)');
    expect(text).toContain(`apiKey: \${OPENAI_PRODUCTION_API_KEY}`);
    expect(parse(text)).toEqual(document);
    expect(checkDocument(parse(text))).toEqual([]);
    const env = { OPENAI_PRODUCTION_API_KEY: 'sk-1', AZURE_ENTRA_CLIENT_SECRET: 's' };
    expect(readConfig(text, 'tollgate.yaml', env).document.credentials?.[0]?.fields.apiKey).toBe('sk-1');
  });

  it('gives two credentials whose names read alike variables of their own', () => {
    const twins = exportDocument({
      ...SOURCE,
      credentials: ['a-b', 'a_b'].map((name) => ({
        name,
        provider: 'openai',
        authMethod: 'api-key',
        secrets: { apiKey: '•' },
        settings: {},
      })),
      models: [],
    });
    expect(twins.variables.map((entry) => entry.variable)).toEqual(['A_B_API_KEY', 'A_B_API_KEY_2']);
  });
});
