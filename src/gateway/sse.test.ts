import { describe, expect, it } from 'vitest';
import { eventData, SseSplitter } from './sse.ts';

describe('SseSplitter', () => {
  it('returns whole events exactly as received, however the bytes are cut', () => {
    const stream = 'data: {"a":1}\n\ndata: {"b":"é"}\n\ndata: [DONE]\n\n';
    const bytes = Buffer.from(stream);
    for (let cut = 1; cut < bytes.length; cut++) {
      const splitter = new SseSplitter();
      const events = [...splitter.push(bytes.subarray(0, cut)), ...splitter.push(bytes.subarray(cut))];
      expect(events.join('')).toBe(stream);
      expect(events).toHaveLength(3);
      expect(splitter.rest()).toBe('');
    }
  });

  it('handles CRLF separators and keeps an unterminated tail', () => {
    const splitter = new SseSplitter();
    expect(splitter.push(Buffer.from('data: 1\r\n\r\ndata: 2'))).toEqual(['data: 1\r\n\r\n']);
    expect(splitter.rest()).toBe('data: 2');
  });
});

describe('eventData', () => {
  it('parses JSON data and ignores [DONE] and comments', () => {
    expect(eventData('data: {"x":1}\n\n')).toEqual({ x: 1 });
    expect(eventData('data:{"x":2}\n\n')).toEqual({ x: 2 });
    expect(eventData('data: [DONE]\n\n')).toBeUndefined();
    expect(eventData(': keep-alive\n\n')).toBeUndefined();
  });
});
