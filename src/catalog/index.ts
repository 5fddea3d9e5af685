import { CATALOG_CHECKED, CATALOG_PROVIDERS, type CatalogPrice, catalogEntries } from './catalog.ts';
import { normalizeModelId, withoutBedrockProfile } from './model-id.ts';

export { type CacheRatios, FAMILY_RATIOS, type PriceFamily, priceFamily } from './families.ts';
export { CATALOG_CHECKED, CATALOG_PROVIDERS, type CatalogPrice, catalogEntries, normalizeModelId };

/** Servers people run themselves: nothing is billed per token. */
const SELF_HOSTED = new Set(['ollama', 'vllm', 'llamacpp', 'lmstudio']);
/** Other names callers may use for a catalogue provider. */
const ALIASES: Record<string, string> = { google: 'gemini', 'google-ai-studio': 'gemini', 'x-ai': 'xai' };
/** OpenRouter's `vendor/model` ids → the vendor's catalogue provider. */
const OPENROUTER_VENDORS: Record<string, string> = {
  openai: 'openai',
  anthropic: 'anthropic',
  google: 'gemini',
  mistralai: 'mistral',
  'x-ai': 'xai',
  deepseek: 'deepseek',
};

interface ProviderIndex {
  /** Lower-cased id → entry. */
  exact: Map<string, CatalogPrice>;
  /** Normalised id → entry; an entry whose id is already normal wins over its variants. */
  normal: Map<string, CatalogPrice>;
}

function buildIndex(): Map<string, ProviderIndex> {
  const index = new Map<string, ProviderIndex>();
  for (const provider of CATALOG_PROVIDERS) index.set(provider, { exact: new Map(), normal: new Map() });
  const entries = catalogEntries();
  // Two passes: canonical ids (already in normal form) first, then dated or aliased ones.
  for (const canonicalPass of [true, false]) {
    for (const entry of entries) {
      const slot = index.get(entry.provider) as ProviderIndex;
      const lower = entry.model.toLowerCase();
      const normal = normalizeModelId(entry.model, entry.provider);
      if (canonicalPass) slot.exact.set(lower, entry);
      if ((normal === lower) === canonicalPass && !slot.normal.has(normal)) slot.normal.set(normal, entry);
    }
  }
  return index;
}

const INDEX = buildIndex();
const memo = new Map<string, CatalogPrice | null>();
const MEMO_LIMIT = 10_000;

function free(provider: string, model: string, note: string): CatalogPrice {
  return Object.freeze({
    provider,
    model,
    input: 0,
    output: 0,
    cachedInput: 0,
    cacheWriteInput: 0,
    cacheWrite1hInput: 0,
    free: true,
    contextWindow: null,
    maxOutputTokens: null,
    note,
  });
}

function find(provider: string, model: string): CatalogPrice | undefined {
  const slot = INDEX.get(provider);
  if (slot) {
    const lower = model.trim().toLowerCase();
    const hit =
      slot.exact.get(lower) ??
      (provider === 'bedrock' ? slot.exact.get(withoutBedrockProfile(lower)) : undefined) ??
      slot.normal.get(normalizeModelId(model, provider));
    if (hit) return hit;
  }
  if (provider === 'bedrock') {
    // Anthropic's models on Bedrock cost what they cost at Anthropic (global, on-demand).
    const id = withoutBedrockProfile(model.trim().toLowerCase());
    if (id.startsWith('anthropic.')) return find('anthropic', id.slice('anthropic.'.length));
  }
  // Azure OpenAI's global deployments are priced as OpenAI's models.
  if (provider === 'azure') return find('openai', model);
  if (provider === 'openrouter') {
    const [vendor, rest] = model.split(/\/(.*)/s);
    const target = vendor ? OPENROUTER_VENDORS[vendor.toLowerCase()] : undefined;
    // OpenRouter writes Claude versions with dots: anthropic/claude-sonnet-4.5.
    if (target && rest) return find(target, target === 'anthropic' ? rest.replace(/(\d)\.(\d)/g, '$1-$2') : rest);
  }
  return undefined;
}

/**
 * The list price of a provider's model, or undefined when the catalogue does not know it.
 * Matching tries, in order: the exact id (any case); for Bedrock, the id without its
 * cross-region inference-profile prefix (`us.`, `eu.`, `global.`…); the id without date,
 * version or alias suffixes (`claude-sonnet-4-5-20250929` → `claude-sonnet-4-5`,
 * `gpt-4o-2024-08-06` → `gpt-4o`, `mistral-large-2512` → `mistral-large-latest`); then the
 * original vendor for resellers whose prices are the vendor's (Bedrock's `anthropic.` models,
 * Azure OpenAI, OpenRouter). Self-hosted servers (Ollama, vLLM, llama.cpp, LM Studio) are free.
 */
export function lookupPrice(provider: string, upstreamModel: string): CatalogPrice | undefined {
  const canonical = ALIASES[provider.toLowerCase()] ?? provider.toLowerCase();
  if (SELF_HOSTED.has(canonical)) return free(canonical, upstreamModel, 'Self-hosted: no per-token price.');
  if (canonical === 'openrouter' && /:free$/i.test(upstreamModel)) {
    return free(canonical, upstreamModel, "OpenRouter's free variant.");
  }
  const key = `${canonical}\u0000${upstreamModel}`;
  const cached = memo.get(key);
  if (cached !== undefined) return cached ?? undefined;
  const found = find(canonical, upstreamModel);
  if (memo.size >= MEMO_LIMIT) memo.clear();
  memo.set(key, found ?? null);
  return found;
}
