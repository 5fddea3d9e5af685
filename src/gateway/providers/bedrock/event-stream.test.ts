import { describe, expect, it } from 'vitest';
import { encodeEvent } from '../../../../test/support/fake-bedrock.ts';
import { EventStreamSplitter, headerString } from './event-stream.ts';

describe('event stream splitter', () => {
  const a = encodeEvent('contentBlockDelta', { delta: { text: 'a' } });
  const b = encodeEvent('messageStop', { stopReason: 'end_turn' });

  it('decodes several messages from one push, headers and body intact', () => {
    const messages = new EventStreamSplitter().push(new Uint8Array(Buffer.concat([a, b])));
    expect(messages.map((message) => headerString(message, ':event-type'))).toEqual([
      'contentBlockDelta',
      'messageStop',
    ]);
    expect(headerString(messages[1]!, ':message-type')).toBe('event');
    expect(JSON.parse(new TextDecoder().decode(messages[1]!.body))).toEqual({ stopReason: 'end_turn' });
  });

  it('keeps only the bytes of the incomplete message between pushes', () => {
    const splitter = new EventStreamSplitter();
    const bytes = new Uint8Array(Buffer.concat([a, b]));
    expect(splitter.push(bytes.subarray(0, 3))).toEqual([]);
    expect(splitter.pendingBytes).toBe(3);
    expect(splitter.push(bytes.subarray(3, a.byteLength + 5))).toHaveLength(1);
    expect(splitter.pendingBytes).toBe(5);
    expect(splitter.push(bytes.subarray(a.byteLength + 5))).toHaveLength(1);
    expect(splitter.pendingBytes).toBe(0);
  });

  it('refuses a length prefix no AWS message can have', () => {
    expect(() => new EventStreamSplitter().push(new Uint8Array([0, 0, 0, 3, 0, 0, 0, 0]))).toThrow(/Corrupt/);
    expect(() => new EventStreamSplitter().push(new Uint8Array([0xff, 0xff, 0xff, 0xff]))).toThrow(/Corrupt/);
  });
});
