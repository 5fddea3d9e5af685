import { InvalidArgumentError } from 'commander';

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

/** A limit that `none` removes. */
export function limitOrNone(value: string): number | null {
  if (value === 'none') return null;
  const number = Number(value);
  if (!Number.isInteger(number) || number < 0) throw new InvalidArgumentError('Expected a whole number or "none".');
  return number;
}

export interface TargetSpec {
  credential: string;
  upstreamModel: string;
  weight?: number;
}

/**
 * `CREDENTIAL:UPSTREAM_MODEL[:WEIGHT]`. Credential names have no colons, upstream model names
 * may (`llama3:8b`), so a trailing `:<digits>` is read as the weight.
 */
export function parseTarget(value: string): TargetSpec {
  const at = value.indexOf(':');
  const credential = value.slice(0, at);
  let upstreamModel = value.slice(at + 1);
  const weight = /:(\d+)$/.exec(upstreamModel);
  if (weight) upstreamModel = upstreamModel.slice(0, weight.index);
  if (at <= 0 || upstreamModel === '') {
    throw new InvalidArgumentError('Expected CREDENTIAL:UPSTREAM_MODEL[:WEIGHT], e.g. openai-main:gpt-4o-mini:3.');
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

/** An expiry that `never` removes. */
export function parseExpiryOrNever(value: string): string | null {
  return value === 'never' ? null : parseExpiry(value);
}
