import { readFileSync } from 'node:fs';
import { FAMILY_RATIOS, priceFamily } from './families.ts';

/** One model's list price. Prices are USD per million tokens. */
export interface CatalogPrice {
  /** The provider id as in the provider registry (`openai`, `bedrock`, …). */
  provider: string;
  /** The model id as the catalogue spells it. */
  model: string;
  input: number;
  output: number;
  /** Price of prompt tokens served from the provider's cache; null: not discounted or not known. */
  cachedInput: number | null;
  /**
   * Price of prompt tokens written to the cache with a 5-minute (or unspecified) life; null: no
   * surcharge, they cost the input price. From the provider family's rule unless the entry says.
   */
  cacheWriteInput: number | null;
  /** Price of prompt tokens written to the cache with a 1-hour life; null: no surcharge. */
  cacheWrite1hInput: number | null;
  free: boolean;
  /** Largest prompt plus output, in tokens; null when not published. */
  contextWindow: number | null;
  /** Most output tokens one call can produce; null when not published. */
  maxOutputTokens: number | null;
  /** What the plain numbers do not say (long-context surcharges, introductory prices…). */
  note?: string;
}

export const CATALOG_PROVIDERS = [
  'openai',
  'anthropic',
  'gemini',
  'bedrock',
  'mistral',
  'groq',
  'deepseek',
  'xai',
  'together',
  'fireworks',
] as const;

interface CatalogFile {
  checked: string;
  models: Array<{
    provider: string;
    id: string;
    input: number;
    output: number;
    cachedInput: number | null;
    cacheWriteInput?: number | null;
    cacheWrite1hInput?: number | null;
    free: boolean;
    contextWindow: number | null;
    maxOutputTokens: number | null;
    note?: string;
  }>;
}

/** The catalogue's cache-write prices for an entry: as the data file gives them, else by the family's rule. */
function writePrices(
  model: CatalogFile['models'][number],
): Pick<CatalogPrice, 'cacheWriteInput' | 'cacheWrite1hInput'> {
  const ratios = FAMILY_RATIOS[priceFamily(model.provider, model.id) ?? 'openai'];
  const byRule = (ratio: number | null) => (ratio === null ? null : model.input * ratio);
  return {
    cacheWriteInput: model.cacheWriteInput !== undefined ? model.cacheWriteInput : byRule(ratios.cacheWriteInput),
    cacheWrite1hInput:
      model.cacheWrite1hInput !== undefined ? model.cacheWrite1hInput : byRule(ratios.cacheWrite1hInput),
  };
}

const price = (value: unknown) => typeof value === 'number' && Number.isFinite(value) && value >= 0;
const size = (value: unknown) => value === null || (Number.isInteger(value) && (value as number) > 0);

/** Reads and checks the data file; a malformed entry stops start-up rather than mis-billing. */
function load(): { checked: string; entries: CatalogPrice[] } {
  const file = JSON.parse(readFileSync(new URL('./prices.json', import.meta.url), 'utf8')) as CatalogFile;
  const seen = new Set<string>();
  const entries = file.models.map((model, index) => {
    const where = `src/catalog/prices.json models[${index}] (${model.provider}/${model.id})`;
    if (!(CATALOG_PROVIDERS as readonly string[]).includes(model.provider)) {
      throw new Error(`${where}: unknown provider`);
    }
    if (typeof model.id !== 'string' || model.id.trim() !== model.id || model.id === '') {
      throw new Error(`${where}: id must be a non-empty string without surrounding spaces`);
    }
    const nullablePrice = (value: unknown) => value === null || price(value);
    if (
      !price(model.input) ||
      !price(model.output) ||
      !nullablePrice(model.cachedInput) ||
      !(model.cacheWriteInput === undefined || nullablePrice(model.cacheWriteInput)) ||
      !(model.cacheWrite1hInput === undefined || nullablePrice(model.cacheWrite1hInput))
    ) {
      throw new Error(`${where}: prices must be numbers ≥ 0 (cached and cache-write prices may be null)`);
    }
    if (typeof model.free !== 'boolean' || model.free !== (model.input === 0 && model.output === 0)) {
      throw new Error(`${where}: free must be true exactly when input and output cost nothing`);
    }
    if (!size(model.contextWindow) || !size(model.maxOutputTokens)) {
      throw new Error(`${where}: contextWindow and maxOutputTokens must be positive whole numbers or null`);
    }
    const key = `${model.provider}/${model.id.toLowerCase()}`;
    if (seen.has(key)) throw new Error(`${where}: listed twice`);
    seen.add(key);
    const entry: CatalogPrice = {
      provider: model.provider,
      model: model.id,
      input: model.input,
      output: model.output,
      cachedInput: model.cachedInput,
      ...writePrices(model),
      free: model.free,
      contextWindow: model.contextWindow,
      maxOutputTokens: model.maxOutputTokens,
      ...(model.note ? { note: model.note } : {}),
    };
    return Object.freeze(entry);
  });
  return { checked: file.checked, entries };
}

const catalog = load();

/** The day the catalogue's prices were last checked against the providers (YYYY-MM-DD). */
export const CATALOG_CHECKED: string = catalog.checked;

/** Every catalogue entry, in the data file's order. */
export function catalogEntries(): readonly CatalogPrice[] {
  return catalog.entries;
}
