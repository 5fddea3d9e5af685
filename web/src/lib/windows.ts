import type { WindowUnit } from '../api/types.ts';

export const WINDOW_UNITS: Array<{ value: WindowUnit; label: string }> = [
  { value: 'hour', label: 'Hours' },
  { value: 'day', label: 'Days' },
  { value: 'week', label: 'Weeks' },
  { value: 'month', label: 'Months' },
];

const HOURS: Record<WindowUnit, number> = { hour: 1, day: 24, week: 168, month: 30.5 * 24 };
/** The longest window Tollgate accepts: 12 months (366 days). */
const MAX_HOURS = 366 * 24;

/** Why a recurring window is not allowed, or undefined when it is (1 hour to 12 months). */
export function windowProblem(count: number | string | undefined, unit: WindowUnit): string | undefined {
  const value = typeof count === 'string' ? Number(count) : count;
  if (value === undefined || !Number.isInteger(value) || value < 1) return 'Enter a whole number of 1 or more';
  if (value * HOURS[unit] > MAX_HOURS) return 'A window can be at most 12 months';
  return undefined;
}

/** The API's spelling of a window: 1h, 7d, 2w, 12mo. */
export function windowText(count: number, unit: WindowUnit): string {
  return `${count}${unit === 'month' ? 'mo' : unit[0]}`;
}

export function describeWindow(count: number, unit: WindowUnit): string {
  if (count === 1) return `${unit}`;
  return `${count} ${unit}s`;
}
