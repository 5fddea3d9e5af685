import type { UsageRow } from '../../store/schema.ts';

/**
 * Usage records carry strings from outside (the requested model name, up to the body limit,
 * any Unicode). PostgreSQL's text and jsonb refuse NUL and lone UTF-16 surrogates; one such
 * record used to stop the whole writer. Every string is made storable and bounded here, before
 * it is queued, so it also costs little memory while it waits.
 */

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/** NUL and lone surrogates become U+FFFD (so a name is not silently changed into another); at most `max` UTF-16 units. */
export function storableText(value: string, max: number): string {
  let text = value.length > max ? value.slice(0, max) : value;
  // Do not leave half of a pair that the cut split.
  if (text.length < value.length && /[\uD800-\uDBFF]$/.test(text)) text = text.slice(0, -1);
  return text.replace(LONE_SURROGATE, '\uFFFD').replaceAll('\u0000', '\uFFFD');
}

/** Longest value kept per text column of usage_records. */
export const TEXT_LIMITS = {
  requestId: 200,
  keyName: 256,
  endpoint: 64,
  model: 256,
  provider: 64,
  upstreamModel: 256,
  errorCode: 128,
} as const satisfies Partial<Record<keyof UsageRow, number>>;

const optional = (value: string | null | undefined, max: number) =>
  value === null || value === undefined ? value : storableText(String(value), max);

/** A copy of the record whose text columns PostgreSQL will take. Ids and numbers are left as they are. */
export function storableRow(row: UsageRow): UsageRow {
  return {
    ...row,
    requestId: storableText(String(row.requestId), TEXT_LIMITS.requestId),
    keyName: optional(row.keyName, TEXT_LIMITS.keyName),
    endpoint: storableText(String(row.endpoint), TEXT_LIMITS.endpoint),
    model: optional(row.model, TEXT_LIMITS.model),
    provider: optional(row.provider, TEXT_LIMITS.provider),
    upstreamModel: optional(row.upstreamModel, TEXT_LIMITS.upstreamModel),
    errorCode: optional(row.errorCode, TEXT_LIMITS.errorCode),
  };
}

/** A record as JSON text for the dead-letter table or file: storable strings, bounded length. */
export function deadLetterJson(row: UsageRow, max = 16_384): string {
  const json = JSON.stringify(row, (_key, value) => (typeof value === 'string' ? storableText(value, 1024) : value));
  return storableText(json ?? 'null', max);
}
