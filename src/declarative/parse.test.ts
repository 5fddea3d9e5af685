import { describe, expect, it } from 'vitest';
import { ConfigFileError, readConfig, secretVariable } from './parse.ts';

const GOOD = `version: 1
organization:
  name: Acme
  spendLimit:
    recurring: { usd: 2000, window: 1mo }
credentials:
  - name: openai-production
    provider: openai
    fields:
      apiKey: \${OPENAI_API_KEY}
      organization: org-123
  - name: local-vllm
    provider: vllm
    fields:
      baseUrl: http://vllm.internal:8000/v1
models:
  - name: gpt-4o
    targets:
      - credential: openai-production
        upstreamModel: gpt-4o-2024-08-06
    inputPrice: 2.5
    outputPrice: 10
projects:
  - name: research
    plan: pro
    spendLimit: { allTimeUsd: 5000 }
`;

/** The problem lines of a file that cannot be read. */
function problems(text: string, env: Record<string, string> = {}): string[] {
  try {
    readConfig(text, 'tollgate.yaml', env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigFileError);
    return (error as ConfigFileError).lines;
  }
  throw new Error('the file was accepted');
}

describe('reading a tollgate.yaml', () => {
  it('gives the document with each secret taken from its environment variable', () => {
    const { document } = readConfig(GOOD, 'tollgate.yaml', { OPENAI_API_KEY: 'sk-from-env' });
    expect(document.credentials?.[0]?.fields).toEqual({ apiKey: 'sk-from-env', organization: 'org-123' });
    expect(document.credentials?.[1]?.fields).toEqual({ baseUrl: 'http://vllm.internal:8000/v1' });
    expect(document.models?.[0]).toMatchObject({ name: 'gpt-4o', inputPrice: 2.5 });
    expect(document.organization?.spendLimit?.recurring).toEqual({ usd: 2000, window: '1mo' });
  });

  it('names the file, line, path and variable of a secret whose variable is not set, or empty', () => {
    expect(problems(GOOD)).toEqual([
      'tollgate.yaml:10:7: credentials[0].fields.apiKey: environment variable OPENAI_API_KEY is not set',
    ]);
    expect(problems(GOOD, { OPENAI_API_KEY: '' })).toEqual([
      'tollgate.yaml:10:7: credentials[0].fields.apiKey: environment variable OPENAI_API_KEY is empty',
    ]);
  });

  it('refuses a secret written in the file, without repeating it', () => {
    const lines = problems(GOOD.replace(`\${OPENAI_API_KEY}`, 'sk-live-literal-secret'));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^tollgate\.yaml:10:7: credentials\[0\]\.fields\.apiKey: is a secret: write a reference/);
    expect(lines[0]).toContain(`\${OPENAI_PRODUCTION_API_KEY}`);
    expect(lines.join('\n')).not.toContain('sk-live-literal-secret');
  });

  it('refuses an environment variable reference in a field that is not secret', () => {
    expect(problems(GOOD.replace('org-123', `\${OPENAI_ORG}`), { OPENAI_API_KEY: 'k' })).toEqual([
      'tollgate.yaml:11:7: credentials[0].fields.organization: is not a secret: write its value; only secret fields are read from environment variables',
    ]);
  });

  it('refuses an unknown provider with the list the admin API gives, and an unknown auth method', () => {
    const [line] = problems(GOOD.replace('provider: vllm', 'provider: openia'), { OPENAI_API_KEY: 'k' });
    expect(line).toMatch(
      /^tollgate\.yaml:13:5: credentials\[1\]\.provider: unknown provider "openia"; known: openai, azure, /,
    );
    expect(
      problems(GOOD.replace('provider: vllm', 'provider: vllm\n    authMethod: oauth'), { OPENAI_API_KEY: 'k' }),
    ).toEqual(['tollgate.yaml:14:5: credentials[1].authMethod: vllm has no auth method "oauth"']);
  });

  it('refuses a field the provider does not declare, as the API does', () => {
    expect(problems(GOOD.replace('organization: org-123', 'region: eu'), { OPENAI_API_KEY: 'k' })).toEqual([
      'tollgate.yaml:9:5: credentials[0].fields: openai (api-key) has no field "region"; its fields are apiKey, baseUrl, organization',
    ]);
  });

  it('refuses a negative price, an unknown field and a plan that does not exist, all at once, in file order', () => {
    const text = GOOD.replace('inputPrice: 2.5', 'inputPrice: -1')
      .replace('    plan: pro', '    plan: gold\n    plann: pro')
      .replace(
        '        upstreamModel: gpt-4o-2024-08-06',
        '        upstreamModel: gpt-4o-2024-08-06\n        wieght: 2',
      );
    expect(problems(text, { OPENAI_API_KEY: 'k' })).toEqual([
      'tollgate.yaml:21:9: models[0].targets[0].wieght: unknown field (the fields here are credential, upstreamModel, weight, priority, timeoutMs)',
      'tollgate.yaml:22:5: models[0].inputPrice: must be >= 0',
      'tollgate.yaml:26:5: projects[0].plan: must be one of "free", "pro", "enterprise"',
      'tollgate.yaml:27:5: projects[0].plann: unknown field (the fields here are name, plan, keyLimit, keysPerUser, spendLimit)',
    ]);
  });

  it('refuses an unknown section and a missing required field', () => {
    expect(problems('keys:\n  - name: x\nmodels:\n  - name: m\n')).toEqual([
      'tollgate.yaml:1:1: keys: unknown field (the fields here are version, prune, organization, credentials, models, projects)',
      'tollgate.yaml:4:5: models[0].targets: is required',
    ]);
  });

  it('says which branch of a nullable value failed, not that it should have been null', () => {
    const text = GOOD.replace('spendLimit: { allTimeUsd: 5000 }', 'spendLimit: { recurring: { usd: -5, window: 1d } }');
    expect(problems(text, { OPENAI_API_KEY: 'k' })).toEqual([
      'tollgate.yaml:26:32: projects[0].spendLimit.recurring.usd: must be >= 0',
    ]);
    expect(problems(GOOD.replace('outputPrice: 10', 'outputPrice: ten'), { OPENAI_API_KEY: 'k' })).toEqual([
      'tollgate.yaml:22:5: models[0].outputPrice: must be number',
    ]);
  });

  it('refuses two objects of a kind with one name', () => {
    const text = `${GOOD}  - name: research\n`;
    expect(problems(text, { OPENAI_API_KEY: 'k' })).toEqual([
      'tollgate.yaml:27:5: projects[1].name: "research" is also the name of projects[0]',
    ]);
  });

  it('reports YAML errors and duplicate keys with their line, and an empty file', () => {
    expect(problems('models: [1\n')).toEqual([
      'tollgate.yaml:2:1: Flow sequence in block collection must be sufficiently indented and end with a ]',
    ]);
    expect(problems('version: 1\nversion: 1\n')).toEqual(['tollgate.yaml:2:1: Map keys must be unique']);
    expect(problems('')).toEqual([
      'tollgate.yaml: the file is empty: it should hold credentials, models, projects or organization',
    ]);
    expect(problems('version: 2\n')).toEqual(['tollgate.yaml:1:1: version: must be 1']);
  });

  it('refuses text the database cannot store, as the admin API does', () => {
    expect(problems('projects:\n  - name: "bad\\0name"\n')).toEqual([
      'tollgate.yaml:2:5: projects[0].name: holds a NUL character or an unpaired UTF-16 surrogate, which cannot be stored',
    ]);
  });

  it('reads yes and no as words (YAML 1.2), not booleans', () => {
    const { document } = readConfig('projects:\n  - name: no\n    plan: pro\n', 'tollgate.yaml', {});
    expect(document.projects?.[0]?.name).toBe('no');
  });
});

describe('secretVariable', () => {
  it('makes an environment variable name of a credential and a field', () => {
    expect(secretVariable('openai-production', 'apiKey')).toBe('OPENAI_PRODUCTION_API_KEY');
    expect(secretVariable('aws.bedrock', 'secretAccessKey')).toBe('AWS_BEDROCK_SECRET_ACCESS_KEY');
    expect(secretVariable('1st', 'apiKey')).toBe('_1ST_API_KEY');
  });
});
