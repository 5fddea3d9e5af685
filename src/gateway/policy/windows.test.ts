import { describe, expect, it } from 'vitest';
import { currentWindow, parseWindow } from './windows.ts';

const at = (iso: string) => Date.parse(iso);

describe('recurring windows', () => {
  it('count fixed windows from the moment the limit was set', () => {
    const started = at('2026-01-01T10:30:00Z');
    const window = currentWindow({ count: 12, unit: 'hour' }, started, at('2026-01-02T09:00:00Z'));
    expect(new Date(window.start).toISOString()).toBe('2026-01-01T22:30:00.000Z');
    expect(new Date(window.end).toISOString()).toBe('2026-01-02T10:30:00.000Z');
  });

  it('renew monthly windows on the same day, clamped to short months', () => {
    const started = at('2026-01-31T00:00:00Z');
    const february = currentWindow({ count: 1, unit: 'month' }, started, at('2026-03-01T00:00:00Z'));
    expect(new Date(february.start).toISOString()).toBe('2026-02-28T00:00:00.000Z');
    expect(new Date(february.end).toISOString()).toBe('2026-03-31T00:00:00.000Z');
    const yearly = currentWindow({ count: 12, unit: 'month' }, started, at('2027-06-01T00:00:00Z'));
    expect(new Date(yearly.start).toISOString()).toBe('2027-01-31T00:00:00.000Z');
  });

  it('start at the first window when the clock is exactly at the start', () => {
    const started = at('2026-05-05T05:05:05Z');
    expect(currentWindow({ count: 1, unit: 'day' }, started, started).start).toBe(started);
  });

  it('parse the windows the CLI accepts, from 1 hour to 12 months', () => {
    expect(parseWindow('1h')).toEqual({ count: 1, unit: 'hour' });
    expect(parseWindow('12h')).toEqual({ count: 12, unit: 'hour' });
    expect(parseWindow('7d')).toEqual({ count: 7, unit: 'day' });
    expect(parseWindow('1w')).toEqual({ count: 1, unit: 'week' });
    expect(parseWindow('1mo')).toEqual({ count: 1, unit: 'month' });
    expect(parseWindow('12mo')).toEqual({ count: 12, unit: 'month' });
    expect(() => parseWindow('13mo')).toThrow(/12 months/);
    expect(() => parseWindow('0h')).toThrow();
    expect(() => parseWindow('100w')).toThrow();
    expect(() => parseWindow('1y')).toThrow(/look like/);
  });
});
