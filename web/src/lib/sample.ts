import { get } from '../api/client.ts';
import type { UsageFilters } from '../api/queries.ts';
import type { UsagePage, UsageRecord } from '../api/types.ts';

/** Pages through usage records for the filters, newest first, up to `cap` records (for CSV export). */
export async function fetchRecords(
  filters: UsageFilters,
  cap: number,
): Promise<{ records: UsageRecord[]; truncated: boolean; totals: UsagePage['totals'] | undefined }> {
  const records: UsageRecord[] = [];
  let cursor: number | undefined;
  let totals: UsagePage['totals'] | undefined;
  while (records.length < cap) {
    const page = await get<UsagePage>('/api/v1/usage', {
      ...filters,
      limit: Math.min(1000, cap - records.length),
      cursor,
    });
    totals ??= page.totals;
    records.push(...page.records);
    if (page.nextCursor === null) return { records, truncated: false, totals };
    cursor = page.nextCursor;
  }
  return { records, truncated: true, totals };
}
