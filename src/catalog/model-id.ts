/**
 * Model ids as providers spell them, reduced to a comparable core. Providers publish the same
 * model under several names: dated snapshots (`gpt-4o-2024-08-06`, `claude-sonnet-4-5-20250929`,
 * `grok-4-0709`, `mistral-large-2512`), moving aliases (`-latest`, `-preview`), versions
 * (`gemini-2.0-flash-001`, Bedrock's `-v1:0`) and prefixes (Bedrock's cross-region inference
 * profiles `us.…`, Gemini's `models/…`, Fireworks' `accounts/fireworks/models/…`).
 */

/** Bedrock cross-region inference profiles: `us.anthropic.claude-…`, `global.amazon.nova-…`. */
const BEDROCK_PROFILE = /^(?:us|eu|apac|jp|au|ca|us-gov|global)\./;
const FIREWORKS_PREFIX = /^accounts\/fireworks\/models\//;

/** The id without a Bedrock inference-profile prefix. */
export function withoutBedrockProfile(id: string): string {
  return id.replace(BEDROCK_PROFILE, '');
}

/** Suffixes and prefixes removed in order; each step only removes what the one before left. */
const STEPS: RegExp[] = [
  /:\d+$/, // Bedrock revision `:0`
  /-v\d+$/, // Bedrock version `-v1`
  /@\d{8}$/, // Vertex AI `@20250929`
  /-\d{4}-\d{2}-\d{2}$/, // OpenAI `-2024-08-06`
  /-\d{8}$/, // Anthropic `-20250929`
  /-\d{2}-\d{4}$/, // Gemini `-09-2025`
  /-(?:latest|preview|exp)$/, // moving aliases
  /-\d{3}$/, // Gemini `-001`
  /-\d{4}$/, // xAI `-0709`, Mistral `-2512`
  /-\d{4}(?=-)/, // a date inside the id: `grok-4.20-0309-reasoning`
];

/** The comparable core of a model id (lower case, without date, version, alias or prefix). */
export function normalizeModelId(id: string, provider = ''): string {
  let core = id
    .trim()
    .toLowerCase()
    .replace(/^models\//, '');
  if (provider === 'bedrock') core = withoutBedrockProfile(core);
  if (provider === 'fireworks') core = core.replace(FIREWORKS_PREFIX, '');
  for (const step of STEPS) core = core.replace(step, '');
  return core;
}
