import { describe, expect, it } from 'vitest';
import { OpenAIStreamTap } from './stream-tap.ts';

const event = (data: unknown) => `data: ${typeof data === 'string' ? data : JSON.stringify(data)}\n\n`;
const chunk = (content: string) =>
  event({ id: 'c', object: 'chat.completion.chunk', choices: [{ index: 0, delta: { content } }] });

describe('the OpenAI stream tap', () => {
  it('reads usage whatever the whitespace, and holds back the usage-only chunk unless asked for', () => {
    const tap = new OpenAIStreamTap('openai', false);
    expect(tap.observe(chunk('Hello'))).toBe(true);
    const usage = 'data: {"id":"c","choices":[],"usage" : {  "prompt_tokens": 1013, "completion_tokens": 97}}\n\n';
    expect(tap.observe(usage)).toBe(false);
    expect(tap.usage).toEqual({ promptTokens: 1013, completionTokens: 97, cachedTokens: 0 });
    const asked = new OpenAIStreamTap('openai', true);
    expect(asked.observe(usage)).toBe(true);
  });

  it('keeps the text streamed so far for counting when no usage came', () => {
    const tap = new OpenAIStreamTap('openai', false);
    tap.observe(chunk('The answer '));
    tap.observe(chunk('is "usage" free'));
    expect(tap.usage).toBeUndefined();
    expect(tap.outputText).toBe('The answer is "usage" free');
  });

  it('takes an error event as a provider error, not as a finished answer', () => {
    const tap = new OpenAIStreamTap('vllm', false);
    tap.observe(chunk('partial'));
    expect(tap.observe(event({ error: { message: 'model overloaded', type: 'server_error' } }))).toBe(true);
    expect(tap.error?.code).toBe('TG_ERR_PROVIDER_ERROR');
    expect(tap.error?.status).toBe(502);
    expect(tap.error?.message).toContain('model overloaded');
  });
});
