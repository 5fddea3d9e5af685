import { describe, expect, it } from 'vitest';
import { AnthropicStreamTap } from './stream-tap.ts';

const event = (type: string, data: object) => `event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`;

describe('the Anthropic stream tap', () => {
  const start = event('message_start', {
    message: { id: 'm', usage: { input_tokens: 1013, cache_read_input_tokens: 211, output_tokens: 1 } },
  });

  it('keeps the usage message_start reported, and the output streamed after it', () => {
    const tap = new AnthropicStreamTap('anthropic');
    tap.observe(start);
    tap.observe(event('content_block_delta', { index: 0, delta: { type: 'text_delta', text: 'Hello there' } }));
    tap.observe(event('content_block_delta', { index: 1, delta: { type: 'input_json_delta', partial_json: '{"a":' } }));
    expect(tap.usage).toMatchObject({ promptTokens: 1224, cachedTokens: 211, completionTokens: 1 });
    expect(tap.outputText).toBe('Hello there{"a":');
    expect(tap.error).toBeUndefined();
  });

  it('takes an error event as a provider error and keeps the usage reported before it', () => {
    const tap = new AnthropicStreamTap('anthropic');
    tap.observe(start);
    tap.observe(event('error', { error: { type: 'overloaded_error', message: 'Overloaded' } }));
    expect(tap.error?.code).toBe('TG_ERR_PROVIDER_ERROR');
    expect(tap.error?.message).toContain('Overloaded');
    expect(tap.usage?.promptTokens).toBe(1224);
  });
});
