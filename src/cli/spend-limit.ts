import type { Command } from 'commander';
import { describeWindow } from '../gateway/policy/windows.ts';
import { money, when } from './output.ts';
import { NONE, type OrNone, orNull, spendWindow, usdOrNone } from './parse-options.ts';

/** Spend limits as the API shows them, on keys, users, projects and the organisation. */
export interface RecurringLimit {
  usd: number;
  count: number;
  unit: 'hour' | 'day' | 'week' | 'month';
  startedAt: string;
}

export interface SpendLimit {
  allTimeUsd?: number | null;
  recurring?: RecurringLimit | null;
}

/** What was spent: all time, and in the current window when there is a recurring limit. */
export interface SpendReport {
  allTimeUsd: number;
  period: { start: string; end: string; spentUsd: number } | null;
}

/** The change the API takes: absent keeps, null removes. */
export interface SpendLimitChange {
  allTimeUsd?: number | null;
  recurring?: { usd: number; window: string } | null;
}

export interface SpendOptions {
  limit?: OrNone<number>;
  recurringLimit?: OrNone<number>;
  window?: string;
}

/** Adds `--limit`, `--recurring-limit` and `--window`; on update, `none` removes a limit. */
export function withSpendOptions(command: Command, what: string, update: boolean): Command {
  const none = update ? '; "none" removes it' : '';
  return command
    .option('--limit <usd>', `all-time spend limit of the ${what} in USD${none}`, usdOrNone)
    .option('--recurring-limit <usd>', `spend limit per --window in USD${none}`, usdOrNone)
    .option('--window <window>', 'window of the recurring limit: 1h, 12h, 1d, 7d, 1w, 1mo … 12mo', spendWindow);
}

const UNIT_LETTERS: Record<RecurringLimit['unit'], string> = { hour: 'h', day: 'd', week: 'w', month: 'mo' };

/** `{count: 1, unit: 'month'}` → `1mo`, the form `--window` takes. */
export function windowText(recurring: Pick<RecurringLimit, 'count' | 'unit'>): string {
  return `${recurring.count}${UNIT_LETTERS[recurring.unit]}`;
}

/**
 * Whether building the change needs the current limit: changing only the amount of a
 * recurring limit keeps its window, and changing only its window keeps its amount.
 */
export function needsCurrentLimit(options: SpendOptions): boolean {
  return (typeof options.recurringLimit === 'number') !== (options.window !== undefined);
}

/**
 * The `spendLimit` change the options ask for, or undefined when they ask for none. `current`
 * is the limit being updated (undefined when creating).
 */
export function spendLimitChange(options: SpendOptions, current?: SpendLimit): SpendLimitChange | undefined {
  const change: SpendLimitChange = {};
  if (options.limit !== undefined) change.allTimeUsd = orNull(options.limit);
  const { recurringLimit, window } = options;
  if (recurringLimit === NONE) {
    if (window !== undefined) throw new Error('--window cannot go with --recurring-limit none');
    change.recurring = null;
  } else if (recurringLimit !== undefined || window !== undefined) {
    const existing = current?.recurring ?? undefined;
    if (window === undefined && !existing) {
      throw new Error('--recurring-limit needs --window, e.g. --recurring-limit 50 --window 1mo');
    }
    if (recurringLimit === undefined && !existing) {
      throw new Error(
        '--window needs --recurring-limit (the amount per window), e.g. --recurring-limit 50 --window 1mo',
      );
    }
    change.recurring = {
      usd: recurringLimit ?? (existing as RecurringLimit).usd,
      window: window ?? windowText(existing as RecurringLimit),
    };
  }
  return Object.keys(change).length === 0 ? undefined : change;
}

const per = (recurring: RecurringLimit) => `per ${describeWindow(recurring)}`;

/** The limits in one line: `$100.00 all time; $10.00 per 1 month`. */
export function limitText(limit: SpendLimit): string {
  const parts: string[] = [];
  if (limit.allTimeUsd != null) parts.push(`${money(limit.allTimeUsd)} all time`);
  if (limit.recurring) parts.push(`${money(limit.recurring.usd)} ${per(limit.recurring)}`);
  return parts.length === 0 ? 'none' : parts.join('; ');
}

/** Rows for `show` commands: the limits, what was spent against them, when the window resets. */
export function spendRows(limit: SpendLimit, spend: SpendReport | undefined): Array<[string, string]> {
  const rows: Array<[string, string]> = [['Spend limit', limitText(limit)]];
  if (limit.recurring) rows.push(['Window started', when(limit.recurring.startedAt)]);
  if (!spend) return rows;
  rows.push([
    'Spent (all time)',
    limit.allTimeUsd == null ? money(spend.allTimeUsd) : `${money(spend.allTimeUsd)} of ${money(limit.allTimeUsd)}`,
  ]);
  if (limit.recurring && spend.period) {
    rows.push(
      [
        'Spent this period',
        `${money(spend.period.spentUsd)} of ${money(limit.recurring.usd)} ` +
          `(${when(spend.period.start)} → ${when(spend.period.end)})`,
      ],
      ['Period resets', when(spend.period.end)],
    );
  }
  return rows;
}

/** One cell for list tables: spend against each limit, `$1.20 / $10.00 per 1d`. */
export function spendCell(limit: SpendLimit, spend: SpendReport | undefined): string {
  const spent = spend?.allTimeUsd ?? 0;
  const lines = [limit.allTimeUsd == null ? money(spent) : `${money(spent)} / ${money(limit.allTimeUsd)}`];
  if (limit.recurring) {
    const period = spend?.period?.spentUsd ?? 0;
    lines.push(`${money(period)} / ${money(limit.recurring.usd)} per ${windowText(limit.recurring)}`);
  }
  return lines.join('\n');
}
