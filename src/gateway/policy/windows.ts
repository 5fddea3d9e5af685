import type { RecurringLimit } from '../../store/schema.ts';

export type WindowUnit = RecurringLimit['unit'];

const FIXED_MS: Record<Exclude<WindowUnit, 'month'>, number> = {
  hour: 3_600_000,
  day: 86_400_000,
  week: 7 * 86_400_000,
};

/** The longest window allowed: 12 months (or as many hours, days or weeks as fit in it). */
const MAX_HOURS = 366 * 24;

function addMonths(time: number, months: number): number {
  const date = new Date(time);
  const day = date.getUTCDate();
  date.setUTCDate(1);
  date.setUTCMonth(date.getUTCMonth() + months);
  // Clamp to the month's last day: a window started on Jan 31 renews on Feb 28/29.
  const last = new Date(Date.UTC(date.getUTCFullYear(), date.getUTCMonth() + 1, 0)).getUTCDate();
  date.setUTCDate(Math.min(day, last));
  return date.getTime();
}

/** The window containing `now` for a recurring limit started at `startedAt`. */
export function currentWindow(limit: Pick<RecurringLimit, 'count' | 'unit'>, startedAt: number, now: number) {
  if (now < startedAt) return { start: startedAt, end: nextStart(limit, startedAt, 1) };
  if (limit.unit !== 'month') {
    const length = limit.count * FIXED_MS[limit.unit];
    const index = Math.floor((now - startedAt) / length);
    return { start: startedAt + index * length, end: startedAt + (index + 1) * length };
  }
  // Months differ in length: estimate the index, then step to the exact window.
  let index = Math.max(0, Math.floor((now - startedAt) / (limit.count * 31 * 86_400_000)));
  while (nextStart(limit, startedAt, index + 1) <= now) index++;
  return { start: nextStart(limit, startedAt, index), end: nextStart(limit, startedAt, index + 1) };
}

function nextStart(limit: Pick<RecurringLimit, 'count' | 'unit'>, startedAt: number, index: number): number {
  if (limit.unit === 'month') return addMonths(startedAt, index * limit.count);
  return startedAt + index * limit.count * FIXED_MS[limit.unit];
}

/** `1h`, `12h`, `1d`, `7d`, `1w`, `1mo`, `12mo` → count and unit; 1 hour to 12 months. */
export function parseWindow(text: string): { count: number; unit: WindowUnit } {
  const match = /^(\d+)\s*(h|hours?|d|days?|w|weeks?|mo|months?)$/i.exec(text.trim());
  if (!match) throw new RangeError(`window "${text}" must look like 1h, 12h, 1d, 7d, 1w, 1mo or 12mo`);
  const count = Number(match[1]);
  const letter = (match[2] as string).toLowerCase();
  const unit: WindowUnit = letter.startsWith('mo')
    ? 'month'
    : letter.startsWith('h')
      ? 'hour'
      : letter.startsWith('d')
        ? 'day'
        : 'week';
  validateWindow(count, unit);
  return { count, unit };
}

export function validateWindow(count: number, unit: WindowUnit): void {
  const hours = unit === 'month' ? count * 30.5 * 24 : (count * FIXED_MS[unit]) / 3_600_000;
  if (!Number.isInteger(count) || count < 1 || hours > MAX_HOURS) {
    throw new RangeError(`a window must be from 1 hour to 12 months; ${count} ${unit}(s) is not`);
  }
}

export function describeWindow(limit: Pick<RecurringLimit, 'count' | 'unit'>): string {
  return `${limit.count} ${limit.unit}${limit.count === 1 ? '' : 's'}`;
}
