import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { anthropicAdapter } from './index.ts';
import { openaiFinishReason } from './stop-reasons.ts';

const fixture = (name: string) => readFileSync(new URL(`../../../../test/fixtures/anthropic/${name}`, import.meta.url));
const translate = (name: string) => anthropicAdapter.chatResponse(fixture(name), 'claude-test');

describe('Anthropic message → OpenAI chat.completion', () => {
  it('joins text blocks into the message and reports usage', () => {
    const { body, usage } = translate('message.json');
    expect(body).toMatchObject({
      id: 'msg_013Zva2CMHLNnXjNJJKqJ2EF',
      object: 'chat.completion',
      model: 'claude-test',
      choices: [
        {
          index: 0,
          message: { role: 'assistant', content: 'Hi! My name is Claude.' },
          finish_reason: 'stop',
        },
      ],
      usage: {
        prompt_tokens: 2095,
        completion_tokens: 503,
        total_tokens: 2598,
        prompt_tokens_details: { cached_tokens: 0 },
      },
    });
    expect(body.created).toBeTypeOf('number');
    expect((body.choices as Array<{ message: object }>)[0]?.message).not.toHaveProperty('tool_calls');
    expect(usage).toEqual({ promptTokens: 2095, completionTokens: 503, cachedTokens: 0 });
  });

  it('turns tool_use blocks into tool_calls with JSON arguments', () => {
    const { body } = translate('message-tool-use.json');
    const choice = (body.choices as Array<Record<string, unknown>>)[0];
    expect(choice?.finish_reason).toBe('tool_calls');
    expect(choice?.message).toEqual({
      role: 'assistant',
      content: "I'll check the current weather in San Francisco for you.",
      refusal: null,
      tool_calls: [
        {
          id: 'toolu_01A09q90qw90lq917835lq9',
          type: 'function',
          function: { name: 'get_weather', arguments: '{"location":"San Francisco, CA","unit":"celsius"}' },
        },
      ],
    });
  });

  it('counts cache reads and writes in the prompt, cache reads as cached', () => {
    const { body, usage } = translate('message-cached.json');
    expect(usage).toEqual({ promptTokens: 21 + 188086, completionTokens: 393, cachedTokens: 188086 });
    expect(body.usage).toMatchObject({ prompt_tokens: 188107, prompt_tokens_details: { cached_tokens: 188086 } });
    const written = anthropicAdapter.chatResponse(
      Buffer.from(
        JSON.stringify({
          ...JSON.parse(fixture('message-cached.json').toString()),
          usage: {
            input_tokens: 21,
            cache_creation_input_tokens: 188086,
            cache_read_input_tokens: 0,
            output_tokens: 393,
          },
        }),
      ),
      'm',
    );
    expect(written.usage).toEqual({
      promptTokens: 188107,
      completionTokens: 393,
      cachedTokens: 0,
      cacheWriteTokens: 188086,
    });
  });

  it('gives a tool-only answer null content, and thinking as reasoning_content', () => {
    const message = {
      id: 'msg_1',
      type: 'message',
      role: 'assistant',
      model: 'claude-x',
      content: [
        { type: 'thinking', thinking: 'Think first.', signature: 'sig' },
        { type: 'tool_use', id: 'toolu_1', name: 'now', input: {} },
      ],
      stop_reason: 'tool_use',
      stop_sequence: null,
      usage: { input_tokens: 5, output_tokens: 7 },
    };
    const { body } = anthropicAdapter.chatResponse(Buffer.from(JSON.stringify(message)), '');
    expect(body.model).toBe('claude-x');
    expect((body.choices as Array<{ message: unknown }>)[0]?.message).toMatchObject({
      content: null,
      reasoning_content: 'Think first.',
      tool_calls: [{ id: 'toolu_1', function: { name: 'now', arguments: '{}' } }],
    });
  });

  it('maps every stop reason', () => {
    expect(openaiFinishReason('end_turn')).toBe('stop');
    expect(openaiFinishReason('stop_sequence')).toBe('stop');
    expect(openaiFinishReason('pause_turn')).toBe('stop');
    expect(openaiFinishReason('max_tokens')).toBe('length');
    expect(openaiFinishReason('model_context_window_exceeded')).toBe('length');
    expect(openaiFinishReason('tool_use')).toBe('tool_calls');
    expect(openaiFinishReason('refusal')).toBe('content_filter');
    expect(openaiFinishReason(null)).toBe('stop');
  });

  it('refuses a body that is not a message', () => {
    expect(() => anthropicAdapter.chatResponse(Buffer.from('<html>'), 'm')).toThrow(/not JSON/);
    expect(() => anthropicAdapter.chatResponse(fixture('error-authentication.json'), 'm')).toThrow(/not a message/);
  });

  it("reads the provider's message from an error body", () => {
    expect(anthropicAdapter.errorMessage(fixture('error-authentication.json'))).toBe('invalid x-api-key');
    const overloaded =
      '{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"},"request_id":"req_1"}';
    expect(anthropicAdapter.errorMessage(Buffer.from(overloaded))).toBe('Overloaded');
    expect(anthropicAdapter.errorMessage(Buffer.from('<html>Bad gateway</html>'))).toBeUndefined();
  });
});
