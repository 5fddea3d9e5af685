import { sql } from 'drizzle-orm';
import { Type } from 'typebox';
import { TollgateError } from '../errors.ts';
import type { ScopeKind } from '../gateway/policy/spend-scopes.ts';
import { currentWindow, parseWindow } from '../gateway/policy/windows.ts';
import { type Db, rawRows } from '../store/db.ts';
import type { SpendLimit } from '../store/schema.ts';
import { Usd } from './bounds.ts';

/** How spend limits are written in requests: amounts in USD, windows like `1d` or `12mo`. */
export const SpendLimitBody = Type.Object({
  allTimeUsd: Type.Optional(Type.Union([Type.Null(), Usd()])),
  recurring: Type.Optional(
    Type.Union([
      Type.Object({
        usd: Usd(),
        window: Type.String({ maxLength: 20, description: '1h … 12mo: a number and h, d, w or mo' }),
      }),
      Type.Null(),
    ]),
  ),
});
export type SpendLimitInput = { allTimeUsd?: number | null; recurring?: { usd: number; window: string } | null };

/**
 * Applies a change to a spend limit. Absent fields stay as they are; null removes a limit.
 * A recurring limit whose window (length) changes starts a new window now; changing only its
 * amount keeps the current window, so raising a limit does not wipe what was spent.
 */
export function applySpendLimit(current: SpendLimit, input: SpendLimitInput | undefined, now: number): SpendLimit {
  if (!input) return current;
  const next: SpendLimit = { ...current };
  if (input.allTimeUsd !== undefined) {
    if (input.allTimeUsd === null) delete next.allTimeUsd;
    else next.allTimeUsd = input.allTimeUsd;
  }
  if (input.recurring === null) delete next.recurring;
  else if (input.recurring) {
    let window: ReturnType<typeof parseWindow>;
    try {
      window = parseWindow(input.recurring.window);
    } catch (error) {
      throw new TollgateError('TG_ERR_INVALID_REQUEST', (error as Error).message);
    }
    const same =
      current.recurring && current.recurring.count === window.count && current.recurring.unit === window.unit;
    next.recurring = {
      usd: input.recurring.usd,
      ...window,
      startedAt: same ? (current.recurring?.startedAt as string) : new Date(now).toISOString(),
    };
  }
  return next;
}

const COLUMN: Record<ScopeKind, string> = { key: 'key_id', user: 'user_id', project: 'project_id', org: 'org_id' };

export interface SpendReport {
  allTimeUsd: number;
  /** The current recurring window, when there is a recurring limit. */
  period: { start: string; end: string; spentUsd: number } | null;
}

/** What each scope has spent, all time and in its current window, in two queries. */
export async function spendReports(
  db: Db,
  kind: ScopeKind,
  items: Array<{ id: string; spendLimit: SpendLimit }>,
  now: number,
): Promise<Map<string, SpendReport>> {
  const reports = new Map<string, SpendReport>();
  if (items.length === 0) return reports;
  const column = sql.raw(COLUMN[kind]);
  const ids = items.map((item) => item.id);
  const totals = await rawRows<{ id: string; usd: number }>(
    db,
    sql`select ${column}::text as id, sum(cost_usd)::float8 as usd from usage_records
        where ${column} in (${sql.join(
          ids.map((id) => sql`${id}::uuid`),
          sql`, `,
        )}) group by ${column}`,
  );
  const allTime = new Map(totals.map((row) => [row.id, Number(row.usd)]));
  const windows = new Map<string, { start: number; end: number }>();
  for (const item of items) {
    const recurring = item.spendLimit.recurring;
    if (recurring) windows.set(item.id, currentWindow(recurring, Date.parse(recurring.startedAt), now));
  }
  const periods = new Map<string, number>();
  if (windows.size > 0) {
    const values = sql.join(
      [...windows].map(([id, window]) => sql`(${id}::uuid, ${new Date(window.start).toISOString()}::timestamptz)`),
      sql`, `,
    );
    const rows = await rawRows<{ id: string; usd: number }>(
      db,
      sql`select v.id::text as id, sum(u.cost_usd)::float8 as usd from (values ${values}) as v(id, since)
          join usage_records u on u.${column} = v.id and u.time >= v.since group by v.id`,
    );
    for (const row of rows) periods.set(row.id, Number(row.usd));
  }
  for (const item of items) {
    const window = windows.get(item.id);
    reports.set(item.id, {
      allTimeUsd: allTime.get(item.id) ?? 0,
      period: window
        ? {
            start: new Date(window.start).toISOString(),
            end: new Date(window.end).toISOString(),
            spentUsd: periods.get(item.id) ?? 0,
          }
        : null,
    });
  }
  return reports;
}
