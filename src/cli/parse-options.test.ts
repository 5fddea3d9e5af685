import { InvalidArgumentError } from 'commander';
import { describe, expect, it } from 'vitest';
import {
  collectField,
  collectNames,
  graceSeconds,
  limitOrNone,
  NONE,
  nonNegativeNumber,
  orNull,
  parseExpiry,
  parseExpiryOrNever,
  parseTarget,
  positiveIntegerOrNone,
  spendWindow,
  usdOrNone,
} from './parse-options.ts';

describe('parseTarget', () => {
  it('reads credential, upstream model and an optional weight', () => {
    expect(parseTarget('main:gpt-4o-mini')).toEqual({ credential: 'main', upstreamModel: 'gpt-4o-mini' });
    expect(parseTarget('main:gpt-4o-mini@3')).toEqual({ credential: 'main', upstreamModel: 'gpt-4o-mini', weight: 3 });
    expect(parseTarget('aws:anthropic.claude-sonnet-4-5-v1:0')).toEqual({
      credential: 'aws',
      upstreamModel: 'anthropic.claude-sonnet-4-5-v1:0',
    });
  });

  it('keeps colons that belong to the upstream model name', () => {
    expect(parseTarget('local:llama3:8b')).toEqual({ credential: 'local', upstreamModel: 'llama3:8b' });
    expect(parseTarget('local:llama3:8b@2')).toEqual({ credential: 'local', upstreamModel: 'llama3:8b', weight: 2 });
  });

  it('refuses a target without a credential or a model', () => {
    for (const value of ['gpt-4o', ':gpt-4o', 'main:', 'main:@2']) {
      expect(() => parseTarget(value)).toThrow(InvalidArgumentError);
    }
  });
});

describe('parseExpiry', () => {
  const now = Date.parse('2030-01-01T00:00:00Z');

  it('turns a duration into a time that far from now', () => {
    expect(parseExpiry('30d', now)).toBe('2030-01-31T00:00:00.000Z');
    expect(parseExpiry('12h', now)).toBe('2030-01-01T12:00:00.000Z');
  });

  it('takes an ISO date or date-time in the future', () => {
    expect(parseExpiry('2030-02-01', now)).toBe('2030-02-01T00:00:00.000Z');
    expect(parseExpiry('2030-01-01T06:30:00+02:00', now)).toBe('2030-01-01T04:30:00.000Z');
  });

  it('refuses the past, zero durations and nonsense', () => {
    for (const value of ['2029-12-31', '0d', '30x', 'soon']) {
      expect(() => parseExpiry(value, now)).toThrow(InvalidArgumentError);
    }
  });
});

describe('other parsers', () => {
  it('gathers --field pairs, keeping "=" inside values', () => {
    expect(collectField('token=a=b', collectField('region=eu', {}))).toEqual({ region: 'eu', token: 'a=b' });
    expect(() => collectField('=x', {})).toThrow(InvalidArgumentError);
  });

  it('reads prices and limits', () => {
    expect(nonNegativeNumber('0.15')).toBe(0.15);
    expect(() => nonNegativeNumber('-1')).toThrow(InvalidArgumentError);
    expect(() => nonNegativeNumber('')).toThrow(InvalidArgumentError);
    expect(limitOrNone('none')).toBe(NONE);
    expect(limitOrNone('0')).toBe(0);
    expect(() => limitOrNone('1.5')).toThrow(InvalidArgumentError);
    expect(() => limitOrNone('')).toThrow(InvalidArgumentError);
  });

  it('turns "none" into null only where the body is built (commander would make a null parse "")', () => {
    expect(orNull(usdOrNone('none'))).toBeNull();
    expect(orNull(parseExpiryOrNever('never'))).toBeNull();
    expect(orNull(usdOrNone('2.5'))).toBe(2.5);
    expect(orNull(undefined)).toBeUndefined();
  });

  it('reads spend amounts and rates, refusing negatives and zero rates', () => {
    expect(usdOrNone('0')).toBe(0);
    expect(() => usdOrNone('-5')).toThrow(InvalidArgumentError);
    expect(() => usdOrNone('ten')).toThrow(InvalidArgumentError);
    expect(positiveIntegerOrNone('60')).toBe(60);
    expect(positiveIntegerOrNone('none')).toBe(NONE);
    for (const value of ['0', '1.5', '', 'x']) expect(() => positiveIntegerOrNone(value)).toThrow(InvalidArgumentError);
  });

  it('gathers comma-separated names across repeats; "none" empties the list', () => {
    expect(collectNames('gpt-4o*, o1', undefined)).toEqual(['gpt-4o*', 'o1']);
    expect(collectNames('llama', ['o1'])).toEqual(['o1', 'llama']);
    expect(collectNames('none', ['o1'])).toEqual([]);
    expect(() => collectNames(' , ', undefined)).toThrow(InvalidArgumentError);
  });

  it('checks windows as the server does: 1 hour to 12 months', () => {
    for (const value of ['1h', '12h', '1d', '7d', '1w', '1mo', '12mo']) expect(spendWindow(value)).toBe(value);
    for (const value of ['0h', '13mo', '400d', '3x', 'monthly'])
      expect(() => spendWindow(value)).toThrow(InvalidArgumentError);
  });

  it('reads a rotation grace period of at most 30 days', () => {
    expect(graceSeconds('0')).toBe(0);
    expect(graceSeconds('90s')).toBe(90);
    expect(graceSeconds('24h')).toBe(86_400);
    expect(graceSeconds('30d')).toBe(30 * 86_400);
    for (const value of ['31d', '5w', '1y', '-1h']) expect(() => graceSeconds(value)).toThrow(InvalidArgumentError);
  });
});
