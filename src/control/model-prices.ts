import { type CatalogPrice, FAMILY_RATIOS, lookupPrice, priceFamily } from '../catalog/index.ts';
import { TollgateError } from '../errors.ts';

/**
 * A model's five prices (USD per million tokens) and where each came from. A price is given by
 * the administrator, taken from the catalogue (when the input price is the catalogue's too), or
 * derived: a cache price the administrator did not give is the input price they gave times the
 * provider's ratio (the catalogue model's own ratio, else the family's rule), never the
 * catalogue's absolute price, which belongs to another price basis. A cache price with no rule
 * is none: those tokens cost the input price, and the model's details say so.
 */

export const PRICE_FIELDS = [
  'inputPrice',
  'outputPrice',
  'cachedInputPrice',
  'cacheWriteInputPrice',
  'cacheWrite1hInputPrice',
] as const;
export type PriceField = (typeof PRICE_FIELDS)[number];
export type CachePriceField = Exclude<PriceField, 'inputPrice' | 'outputPrice'>;
export const CACHE_PRICE_FIELDS: readonly CachePriceField[] = [
  'cachedInputPrice',
  'cacheWriteInputPrice',
  'cacheWrite1hInputPrice',
];

/**
 * given: set by an administrator (a cache price given as null is none on purpose);
 * catalogue: the catalogue's price for the first target's model;
 * derived: the input price times the provider's ratio;
 * none: no price and no rule (cache reads and writes cost the input price).
 */
export type PriceSource = 'given' | 'catalogue' | 'derived' | 'none';
export type PriceSources = Record<PriceField, PriceSource>;

export interface ModelPrices {
  inputPrice: number;
  outputPrice: number;
  cachedInputPrice: number | null;
  cacheWriteInputPrice: number | null;
  cacheWrite1hInputPrice: number | null;
}

/** Prices an administrator gave; a cache price given as null means "none: bill at the input price". */
export type GivenPrices = Partial<Record<PriceField, number | null>>;

interface Target {
  provider: string;
  upstreamModel: string;
}

/** The catalogue entry's field for each cache price. */
const CATALOGUE_FIELD = {
  cachedInputPrice: 'cachedInput',
  cacheWriteInputPrice: 'cacheWriteInput',
  cacheWrite1hInputPrice: 'cacheWrite1hInput',
} as const satisfies Record<CachePriceField, keyof CatalogPrice>;

/** Rounds away binary noise (0.3 × 1.25 = 0.37499999…) at a hundred-millionth of a dollar per million. */
const tidy = (value: number) => Math.round(value * 1e8) / 1e8;

/** A cache price as a multiple of the input price: the catalogue model's own ratio, else its family's rule. */
function cacheRatio(field: CachePriceField, known: CatalogPrice | undefined, target: Target | undefined) {
  const catalogued = known ? known[CATALOGUE_FIELD[field]] : null;
  if (known && catalogued !== null && known.input > 0) return catalogued / known.input;
  const family = target ? priceFamily(target.provider, target.upstreamModel) : undefined;
  return family ? FAMILY_RATIOS[family][CATALOGUE_FIELD[field]] : null;
}

/**
 * Resolves a model's prices for its first target. `given` are the prices the administrator set
 * (on an update: the ones set before plus the ones set now); `stored` are the model's current
 * prices, used for an input or output price that is neither given nor in the catalogue.
 */
export function resolvePrices(
  given: GivenPrices,
  target: Target | undefined,
  stored?: { prices: ModelPrices; sources: PriceSources },
): { prices: ModelPrices; sources: PriceSources } {
  const known = target ? lookupPrice(target.provider, target.upstreamModel) : undefined;
  const base = (field: 'inputPrice' | 'outputPrice', catalogue: number | undefined) => {
    const value = given[field];
    if (typeof value === 'number') return { value, source: 'given' as PriceSource };
    if (catalogue !== undefined) return { value: catalogue, source: 'catalogue' as PriceSource };
    if (stored) return { value: stored.prices[field], source: stored.sources[field] };
    throw new TollgateError(
      'TG_ERR_INVALID_REQUEST',
      `no price is known for ${target?.provider}/${target?.upstreamModel}: give inputPrice and outputPrice (USD per million tokens, 0 for free)`,
    );
  };
  const input = base('inputPrice', known?.input);
  const output = base('outputPrice', known?.output);
  const prices: ModelPrices = {
    inputPrice: input.value,
    outputPrice: output.value,
    cachedInputPrice: null,
    cacheWriteInputPrice: null,
    cacheWrite1hInputPrice: null,
  };
  const sources: PriceSources = {
    inputPrice: input.source,
    outputPrice: output.source,
    cachedInputPrice: 'none',
    cacheWriteInputPrice: 'none',
    cacheWrite1hInputPrice: 'none',
  };
  for (const field of CACHE_PRICE_FIELDS) {
    const value = given[field];
    if (value !== undefined) {
      prices[field] = value;
      sources[field] = 'given';
    } else if (input.source === 'catalogue' && known) {
      // Same basis: the catalogue's input price, so the catalogue's cache prices.
      prices[field] = known[CATALOGUE_FIELD[field]];
      sources[field] = prices[field] === null ? 'none' : 'catalogue';
    } else {
      const ratio = cacheRatio(field, known, target);
      prices[field] = ratio === null ? null : tidy(input.value * ratio);
      sources[field] = ratio === null ? 'none' : 'derived';
    }
  }
  return { prices, sources };
}

/**
 * Where a stored model's prices came from. Models published before sources were kept have
 * none saved: their input, output and cached prices count as given (they were fixed when
 * published), their cache-write prices as derived (the migration that added them derived them).
 */
export function storedSources(saved: Partial<PriceSources> | null | undefined, prices: ModelPrices): PriceSources {
  const sources = {} as PriceSources;
  for (const field of PRICE_FIELDS) {
    const legacy = field === 'cacheWriteInputPrice' || field === 'cacheWrite1hInputPrice' ? 'derived' : 'given';
    sources[field] = saved?.[field] ?? (prices[field] === null ? 'none' : legacy);
  }
  return sources;
}

/** The prices an administrator gave, as stored: what an update keeps unless it changes them. */
export function givenPrices(prices: ModelPrices, sources: PriceSources): GivenPrices {
  const given: GivenPrices = {};
  for (const field of PRICE_FIELDS) if (sources[field] === 'given') given[field] = prices[field];
  return given;
}

const LABELS: Record<CachePriceField, string> = {
  cachedInputPrice: 'Cached input (cache reads)',
  cacheWriteInputPrice: '5-minute cache writes',
  cacheWrite1hInputPrice: '1-hour cache writes',
};

const money = (value: number) => `$${Number(value.toPrecision(6))}`;
const times = (value: number) => `${Number(value.toPrecision(4))}×`;

/** What a reader of the model's details should know about its prices, in sentences. */
export function priceNotes(prices: ModelPrices, sources: PriceSources, target: Target | undefined): string[] {
  const notes: string[] = [];
  const input = prices.inputPrice;
  for (const field of CACHE_PRICE_FIELDS) {
    const value = prices[field];
    if (sources[field] === 'derived' && value !== null) {
      const ratio = input > 0 ? ` (${times(value / input)})` : '';
      notes.push(`${LABELS[field]}: ${money(value)}, derived from the input price by the provider's ratio${ratio}.`);
    }
  }
  if (prices.cachedInputPrice === null && input > 0) {
    notes.push(
      `No cached-input price: cached prompt tokens are billed at the full input price (${money(input)}). Set cachedInputPrice to bill them lower.`,
    );
  }
  // OpenAI and Gemini charge nothing extra for writing to the cache; elsewhere a missing price is worth saying.
  const family = target ? priceFamily(target.provider, target.upstreamModel) : undefined;
  const writesAreFree = family === 'openai' || family === 'gemini';
  if (prices.cacheWriteInputPrice === null && input > 0 && !writesAreFree) {
    notes.push(
      `No cache-write price: tokens written to the prompt cache are billed at the input price (${money(input)}).`,
    );
  }
  if (prices.cacheWrite1hInputPrice === null && prices.cacheWriteInputPrice !== null) {
    notes.push('No 1-hour cache-write price: 1-hour cache writes are billed at the 5-minute cache-write price.');
  }
  return notes;
}
