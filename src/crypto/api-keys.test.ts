import { describe, expect, it } from 'vitest';
import { generateApiKey, hashApiKey, isWellFormedApiKey, KEY_PREFIX, previewApiKey } from './api-keys.ts';

describe('API keys', () => {
  it('have a recognisable prefix and are all different', () => {
    const keys = new Set(Array.from({ length: 1000 }, generateApiKey));
    expect(keys.size).toBe(1000);
    for (const key of keys) {
      expect(key.startsWith(KEY_PREFIX)).toBe(true);
      expect(isWellFormedApiKey(key)).toBe(true);
    }
  });

  it('carry at least 256 bits of randomness', () => {
    // 43 base62 characters hold log2(62^43) ≈ 256.03 bits.
    expect(43 * Math.log2(62)).toBeGreaterThanOrEqual(256);
    const key = generateApiKey();
    expect(key.length - KEY_PREFIX.length - 6).toBe(43);
  });

  it('reject any single mistyped character by checksum', () => {
    const key = generateApiKey();
    let rejected = 0;
    for (let i = KEY_PREFIX.length; i < key.length; i++) {
      const swapped = key[i] === 'a' ? 'b' : 'a';
      const typo = key.slice(0, i) + swapped + key.slice(i + 1);
      if (!isWellFormedApiKey(typo)) rejected++;
    }
    expect(rejected).toBe(key.length - KEY_PREFIX.length);
  });

  it('reject other shapes', () => {
    const key = generateApiKey();
    expect(isWellFormedApiKey(key.slice(1))).toBe(false);
    expect(isWellFormedApiKey(`${key}x`)).toBe(false);
    expect(isWellFormedApiKey(`sk-${key.slice(3)}`)).toBe(false);
    expect(isWellFormedApiKey('')).toBe(false);
  });

  it('store a hash that does not contain the key, and preview only the last four', () => {
    const key = generateApiKey();
    expect(hashApiKey(key)).toMatch(/^[0-9a-f]{64}$/);
    expect(hashApiKey(key)).toBe(hashApiKey(key));
    expect(previewApiKey(key)).toBe(`tg_…${key.slice(-4)}`);
  });
});
