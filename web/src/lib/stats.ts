import type { UsageRecord } from '../api/types.ts';

/** The p-th percentile (0–100) by nearest rank; undefined for no values. */
export function percentile(values: number[], p: number): number | undefined {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[Math.min(rank, sorted.length) - 1];
}

export interface Bucket {
  /** Start of the bucket, ms since the epoch. */
  time: number;
  requests: number;
  errors: number;
  inputTokens: number;
  outputTokens: number;
  cost: number;
}

const MINUTE = 60_000;
const SIZES = [MINUTE, 5 * MINUTE, 15 * MINUTE, 60 * MINUTE, 3 * 60 * MINUTE, 6 * 60 * MINUTE, 24 * 60 * MINUTE];

/** A bucket size giving at most about 60 points over the range. */
export function bucketSize(rangeMs: number): number {
  return SIZES.find((size) => rangeMs / size <= 60) ?? SIZES[SIZES.length - 1]!;
}

/** Records summed into equal time buckets from `since` to `until`, empty buckets included. */
export function toBuckets(records: UsageRecord[], since: number, until: number): { size: number; buckets: Bucket[] } {
  const size = bucketSize(until - since);
  const first = Math.floor(since / size) * size;
  const buckets: Bucket[] = [];
  for (let time = first; time <= until; time += size) {
    buckets.push({ time, requests: 0, errors: 0, inputTokens: 0, outputTokens: 0, cost: 0 });
  }
  for (const record of records) {
    const index = Math.floor((new Date(record.time).getTime() - first) / size);
    const bucket = buckets[index];
    if (!bucket) continue;
    bucket.requests += 1;
    if (record.status >= 400) bucket.errors += 1;
    bucket.inputTokens += record.promptTokens;
    bucket.outputTokens += record.completionTokens;
    bucket.cost += record.costUsd;
  }
  return { size, buckets };
}

export interface Ranked {
  name: string;
  requests: number;
  cost: number;
  tokens: number;
}

/** Records grouped by a name (key, model…), the costliest first. */
export function rank(records: UsageRecord[], by: (record: UsageRecord) => string | null, top = 5): Ranked[] {
  const groups = new Map<string, Ranked>();
  for (const record of records) {
    const name = by(record) ?? '(none)';
    const group = groups.get(name) ?? { name, requests: 0, cost: 0, tokens: 0 };
    group.requests += 1;
    group.cost += record.costUsd;
    group.tokens += record.promptTokens + record.completionTokens;
    groups.set(name, group);
  }
  return [...groups.values()].sort((a, b) => b.cost - a.cost || b.requests - a.requests).slice(0, top);
}
