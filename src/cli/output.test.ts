import { describe, expect, it } from 'vitest';
import { money, when } from './output.ts';

describe('money', () => {
  it('shows cents for dollar amounts and up to six decimals below a dollar', () => {
    expect(money(0)).toBe('$0.00');
    expect(money(2.5)).toBe('$2.50');
    expect(money(0.6)).toBe('$0.60');
    expect(money(0.075)).toBe('$0.075');
    expect(money(0.000123)).toBe('$0.000123');
    expect(money(0.0000001)).toBe('<$0.000001');
    expect(money(null)).toBe('—');
  });
});

describe('when', () => {
  it('drops milliseconds and says when there is no time', () => {
    expect(when('2030-01-01T12:00:00.123Z')).toBe('2030-01-01T12:00:00Z');
    expect(when(null, 'never')).toBe('never');
  });
});
