import { describe, expect, it } from 'vitest';
import { framedAsJsonObject } from './upstream-answer.ts';

const bytes = (text: string) => new TextEncoder().encode(text);

describe('framedAsJsonObject', () => {
  it('accepts a JSON object, whitespace around it included', () => {
    expect(framedAsJsonObject(bytes('{"id":"x"}'))).toBe(true);
    expect(framedAsJsonObject(bytes(' \r\n\t{}\n'))).toBe(true);
    expect(framedAsJsonObject(bytes('{"a":[1,{"b":"}]{\\"\\\\"}],"c":{}}'))).toBe(true);
  });

  it('refuses what a provider or a proxy in front of it may send instead', () => {
    for (const text of [
      '',
      '   ',
      '<html>502 Bad Gateway</html>',
      '{"id":"x"',
      '[1,2]',
      'null',
      '{',
      '}',
      'upstream connect error',
      '{"a":{"b":1}', // cut: the outer object never closes
      '{"a":"}',
      '{"a":1}{"b":2}',
      '{"a":[1}',
      '{"a":1]}',
    ]) {
      expect(framedAsJsonObject(bytes(text)), text).toBe(false);
    }
  });
});
