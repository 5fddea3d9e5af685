import { describe, expect, it } from 'vitest';
import { deadLetterJson, storableRow, storableText } from './storable.ts';

describe('storable text', () => {
  it('replaces NUL and lone surrogates, keeps well-formed pairs', () => {
    expect(storableText('gpt\u0000-4o', 100)).toBe('gpt\ufffd-4o');
    expect(storableText('a\ud800b\udc00c', 100)).toBe('a\ufffdb\ufffdc');
    expect(storableText('emoji 😀 ok', 100)).toBe('emoji 😀 ok');
    expect(storableText('\udbff', 100)).toBe('\ufffd');
  });

  it('bounds the length without splitting a surrogate pair', () => {
    expect(storableText('x'.repeat(1_000_000), 256)).toHaveLength(256);
    expect(storableText('ab😀', 3)).toBe('ab');
  });
});

describe('storable row', () => {
  it('cleans every text column and leaves the rest alone', () => {
    const row = storableRow({
      time: new Date(0),
      requestId: 'req\u0000',
      endpoint: 'chat.completions',
      model: 'm\ud800'.repeat(1000),
      keyName: '\udc00',
      provider: null,
      status: 200,
      latencyMs: 1,
      keyId: 'not-a-uuid',
    });
    expect(row.requestId).toBe('req\ufffd');
    expect(row.model?.length).toBeLessThanOrEqual(256);
    expect(row.model).not.toMatch(/[\ud800-\udfff]/);
    expect(row.keyName).toBe('\ufffd');
    expect(row.provider).toBeNull();
    expect(row.keyId).toBe('not-a-uuid');
  });

  it('writes dead letters as bounded JSON without NUL or lone surrogates', () => {
    const json = deadLetterJson({
      time: new Date(0),
      requestId: 'r',
      endpoint: 'e',
      model: `\u0000\ud800${'x'.repeat(100_000)}`,
      status: 200,
      latencyMs: 1,
    });
    expect(json.length).toBeLessThanOrEqual(16_384);
    expect(json).not.toContain('\u0000');
    expect(json).not.toContain('\\u0000');
    expect(json).not.toContain('\\ud800');
    expect(JSON.parse(json).requestId).toBe('r');
  });
});
