import { InvalidArgumentError } from 'commander';
import { parseWindow } from '../gateway/policy/windows.ts';

/** Option parsers: each turns one command-line value into what the API takes, or says why not. */

export function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

/** `--field name=value`, repeatable, gathered into one record. */
export function collectField(value: string, previous: Record<string, string>): Record<string, string> {
  const at = value.indexOf('=');
  if (at <= 0) throw new InvalidArgumentError('Expected name=value, e.g. --field baseUrl=https://example.com/v1.');
  return { ...previous, [value.slice(0, at)]: value.slice(at + 1) };
}

export function nonNegativeNumber(value: string): number {
  const number = Number(value);
  if (value.trim() === '' || !Number.isFinite(number) || number < 0) {
    throw new InvalidArgumentError('Expected a number of US dollars, 0 or more.');
  }
  return number;
}

export function positiveInteger(value: string): number {
  const number = Number(value);
  if (!Number.isInteger(number) || number < 1) throw new InvalidArgumentError('Expected a whole number, 1 or more.');
  return number;
}

/**
 * What `none` (or `never`) parses to. Commander replaces a parser's null with '', so the
 * removal travels as this marker and becomes null where the request body is built (`orNull`).
 */
export const NONE = 'none';
export type OrNone<T> = T | typeof NONE;

/** The API's value for an option: null for `none`, undefined when the option was not given. */
export function orNull<T>(value: OrNone<T> | undefined): T | null | undefined {
  return value === NONE ? null : value;
}

/** A limit that `none` removes. */
export function limitOrNone(value: string): OrNone<number> {
  if (value === 'none') return NONE;
  const number = Number(value);
  if (value.trim() === '' || !Number.isInteger(number) || number < 0) {
    throw new InvalidArgumentError('Expected a whole number or "none".');
  }
  return number;
}

/** A rate (per minute, or in parallel) that `none` removes: 1 or more. */
export function positiveIntegerOrNone(value: string): OrNone<number> {
  if (value === 'none') return NONE;
  const number = Number(value);
  if (value.trim() === '' || !Number.isInteger(number) || number < 1) {
    throw new InvalidArgumentError('Expected a whole number, 1 or more, or "none".');
  }
  return number;
}

/** An amount of US dollars (a spend limit, a price) that `none` removes. */
export function usdOrNone(value: string): OrNone<number> {
  if (value === 'none') return NONE;
  const number = Number(value);
  if (value.trim() === '' || !Number.isFinite(number) || number < 0) {
    throw new InvalidArgumentError('Expected a number of US dollars, 0 or more, or "none".');
  }
  return number;
}

/**
 * `a,b`, repeatable: names for an allow or deny list (`gpt-4o*` matches by prefix); `none`
 * empties the list.
 */
export function collectNames(value: string, previous: string[] | undefined): string[] {
  if (value.trim() === 'none') return [];
  const names = value
    .split(',')
    .map((name) => name.trim())
    .filter((name) => name !== '');
  if (names.length === 0)
    throw new InvalidArgumentError('Expected names separated by commas, e.g. gpt-4o,gpt-4o-mini.');
  return [...(previous ?? []), ...names];
}

/** A recurring limit's window, checked as the server checks it: `1h` … `12mo`. */
export function spendWindow(value: string): string {
  try {
    parseWindow(value);
  } catch (error) {
    const message = (error as Error).message;
    throw new InvalidArgumentError(`${message.charAt(0).toUpperCase()}${message.slice(1)}.`);
  }
  return value.trim();
}

const GRACE_UNITS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86_400, w: 7 * 86_400 };
const MAX_GRACE_SECONDS = 30 * 86_400;

/** How long a rotated key's old secret keeps working: `0`, `90s`, `30m`, `24h`, `7d`; at most 30 days. */
export function graceSeconds(value: string): number {
  const match = /^(\d+)\s*([smhdw]?)$/.exec(value.trim());
  if (!match) throw new InvalidArgumentError('Expected a duration such as 30m, 24h or 7d (or 0 for none).');
  const seconds = Number(match[1]) * (GRACE_UNITS[match[2] || 's'] as number);
  if (seconds > MAX_GRACE_SECONDS) throw new InvalidArgumentError('The grace period can be 30 days at most.');
  return seconds;
}

export interface TargetSpec {
  credential: string;
  upstreamModel: string;
  weight?: number;
}

/**
 * `CREDENTIAL:UPSTREAM_MODEL[@WEIGHT]`. Credential names have no colons; upstream model names
 * may have several (`llama3:8b`, Bedrock's `anthropic.claude-…-v1:0`), so the weight takes `@`.
 */
export function parseTarget(value: string): TargetSpec {
  const at = value.indexOf(':');
  const credential = value.slice(0, at);
  let upstreamModel = value.slice(at + 1);
  const weight = /@(\d+)$/.exec(upstreamModel);
  if (weight) upstreamModel = upstreamModel.slice(0, weight.index);
  if (at <= 0 || upstreamModel === '') {
    throw new InvalidArgumentError('Expected CREDENTIAL:UPSTREAM_MODEL[@WEIGHT], e.g. openai-main:gpt-4o-mini@3.');
  }
  return { credential, upstreamModel, ...(weight && { weight: Number(weight[1]) }) };
}

export function collectTarget(value: string, previous: TargetSpec[]): TargetSpec[] {
  return [...previous, parseTarget(value)];
}

const UNITS: Record<string, number> = { m: 60e3, h: 3600e3, d: 86400e3, w: 7 * 86400e3 };

/** An expiry: an ISO date or date-time, or a duration from now (`30d`, `12h`); as ISO. */
export function parseExpiry(value: string, now = Date.now()): string {
  const duration = /^(\d+)\s*([mhdw])$/.exec(value.trim());
  if (duration) {
    const amount = Number(duration[1]);
    if (amount === 0) throw new InvalidArgumentError('The duration must be more than 0.');
    return new Date(now + amount * (UNITS[duration[2] as string] as number)).toISOString();
  }
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) {
    throw new InvalidArgumentError('Expected an ISO date or date-time (2030-01-31, 2030-01-31T12:00:00Z) or 30d, 12h.');
  }
  if (date.getTime() <= now) throw new InvalidArgumentError(`${date.toISOString()} is in the past.`);
  return date.toISOString();
}

/** An expiry that `never` removes (as the `NONE` marker). */
export function parseExpiryOrNever(value: string): OrNone<string> {
  return value === 'never' ? NONE : parseExpiry(value);
}
