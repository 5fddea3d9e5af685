import type { UsageBucketSize } from '../../api/types.ts';

/** The usage page's filters live in the URL, so that a filtered view can be linked and reloaded. */
export interface UsageSearch {
  key?: string;
  project?: string;
  model?: string;
  provider?: string;
  status?: number;
  range?: RangeId;
}

/** The time ranges offered, each with the size of its chart buckets (Tollgate bins them). */
export const RANGES = [
  { value: '1h', label: '1 hour', bucket: '5m' },
  { value: '24h', label: '24 hours', bucket: '1h' },
  { value: '7d', label: '7 days', bucket: '1h' },
  { value: '30d', label: '30 days', bucket: '1d' },
  { value: '90d', label: '90 days', bucket: '1d' },
] as const satisfies ReadonlyArray<{ value: string; label: string; bucket: UsageBucketSize }>;
export type RangeId = (typeof RANGES)[number]['value'];
export const DEFAULT_RANGE: RangeId = '7d';

const text = (value: unknown) => (typeof value === 'string' && value.trim() !== '' ? value.trim() : undefined);

export function parseUsageSearch(search: Record<string, unknown>): UsageSearch {
  const status = Number(search.status);
  const range = RANGES.find((candidate) => candidate.value === search.range)?.value;
  const result: UsageSearch = {};
  for (const name of ['key', 'project', 'model', 'provider'] as const) {
    const value = text(search[name]);
    if (value) result[name] = value;
  }
  if (Number.isInteger(status) && status >= 100 && status <= 599) result.status = status;
  if (range) result.range = range;
  return result;
}
