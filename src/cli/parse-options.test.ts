import { InvalidArgumentError } from 'commander';
import { describe, expect, it } from 'vitest';
import { collectField, limitOrNone, nonNegativeNumber, parseExpiry, parseTarget } from './parse-options.ts';

describe('parseTarget', () => {
  it('reads credential, upstream model and an optional weight', () => {
    expect(parseTarget('main:gpt-4o-mini')).toEqual({ credential: 'main', upstreamModel: 'gpt-4o-mini' });
    expect(parseTarget('main:gpt-4o-mini:3')).toEqual({ credential: 'main', upstreamModel: 'gpt-4o-mini', weight: 3 });
  });

  it('keeps colons that belong to the upstream model name', () => {
    expect(parseTarget('local:llama3:8b')).toEqual({ credential: 'local', upstreamModel: 'llama3:8b' });
    expect(parseTarget('local:llama3:8b:2')).toEqual({ credential: 'local', upstreamModel: 'llama3:8b', weight: 2 });
  });

  it('refuses a target without a credential or a model', () => {
    for (const value of ['gpt-4o', ':gpt-4o', 'main:', 'main::2']) {
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
    expect(limitOrNone('none')).toBeNull();
    expect(limitOrNone('0')).toBe(0);
    expect(() => limitOrNone('1.5')).toThrow(InvalidArgumentError);
  });
});
