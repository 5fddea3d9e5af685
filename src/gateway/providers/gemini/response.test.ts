import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { TollgateError } from '../../../errors.ts';
import { chatResponse } from './response.ts';
import { thoughtSignatureOf } from './tool-call-id.ts';

const fixture = (name: string) => readFileSync(new URL(`../../../../test/fixtures/gemini/${name}`, import.meta.url));
const bytes = (value: unknown) => new TextEncoder().encode(JSON.stringify(value));

const answer = (candidate: Record<string, unknown>, usageMetadata?: Record<string, unknown>) =>
  bytes({
    candidates: [{ content: { role: 'model', parts: [{ text: 'x' }] }, index: 0, ...candidate }],
    usageMetadata,
  });

describe('chatResponse', () => {
  it('turns a recorded text answer into a chat.completion, leaving the thought summary out', () => {
    const { body, usage } = chatResponse(fixture('generate-content.json'), 'gemini-2.5-flash');
    expect(body).toMatchObject({
      id: 'chatcmpl-BmcPafuSOIej2roP08fp6AI',
      object: 'chat.completion',
      model: 'gemini-2.5-flash',
      choices: [
        {
          index: 0,
          message: { role: 'assistant', content: 'Hello there! How can I help you today?', refusal: null },
          logprobs: null,
          finish_reason: 'stop',
        },
      ],
      usage: {
        prompt_tokens: 10,
        completion_tokens: 35,
        total_tokens: 45,
        prompt_tokens_details: { cached_tokens: 0 },
        completion_tokens_details: { reasoning_tokens: 27 },
      },
    });
    expect(typeof body.created).toBe('number');
    expect(usage).toEqual({ promptTokens: 10, completionTokens: 35, cachedTokens: 0, reasoningTokens: 27 });
  });

  it('turns a recorded function call into a tool call whose id carries the thought signature', () => {
    const recorded = JSON.parse(fixture('generate-content-function-call.json').toString('utf8'));
    const { body } = chatResponse(fixture('generate-content-function-call.json'), 'gemini-2.5-flash');
    const choice = (body.choices as any[])[0];
    expect(choice.finish_reason).toBe('tool_calls');
    expect(choice.message.content).toBeNull();
    expect(choice.message.tool_calls).toEqual([
      {
        id: expect.stringMatching(/^call_[A-Za-z0-9_-]+$/),
        type: 'function',
        function: { name: 'get_weather', arguments: '{"city":"shanghai"}' },
      },
    ]);
    expect(thoughtSignatureOf(choice.message.tool_calls[0].id)).toBe(
      recorded.candidates[0].content.parts[1].thoughtSignature,
    );
  });

  it('gives parallel calls distinct ids and keeps text said before them', () => {
    const payload = bytes({
      candidates: [
        {
          content: {
            role: 'model',
            parts: [
              { text: 'Checking both.' },
              { functionCall: { name: 'a', args: { x: 1 } } },
              { functionCall: { name: 'b' } },
            ],
          },
          finishReason: 'STOP',
        },
      ],
    });
    const message = (chatResponse(payload, 'm').body.choices as any[])[0].message;
    expect(message.content).toBe('Checking both.');
    expect(message.tool_calls.map((call: any) => call.function)).toEqual([
      { name: 'a', arguments: '{"x":1}' },
      { name: 'b', arguments: '{}' },
    ]);
    expect(message.tool_calls[0].id).not.toBe(message.tool_calls[1].id);
  });

  it.each([
    ['STOP', 'stop'],
    ['MAX_TOKENS', 'length'],
    ['SAFETY', 'content_filter'],
    ['RECITATION', 'content_filter'],
    ['PROHIBITED_CONTENT', 'content_filter'],
    ['BLOCKLIST', 'content_filter'],
    ['SPII', 'content_filter'],
    ['OTHER', 'stop'],
    ['MALFORMED_FUNCTION_CALL', 'stop'],
  ])('maps finishReason %s to %s', (reason, expected) => {
    const { body } = chatResponse(answer({ finishReason: reason }), 'm');
    expect((body.choices as any[])[0].finish_reason).toBe(expected);
  });

  it('counts cached prompt tokens inside prompt tokens, and thinking and tool-use tokens where billed', () => {
    const { body, usage } = chatResponse(
      answer(
        { finishReason: 'STOP' },
        {
          promptTokenCount: 1200,
          cachedContentTokenCount: 1024,
          candidatesTokenCount: 30,
          thoughtsTokenCount: 70,
          toolUsePromptTokenCount: 5,
          totalTokenCount: 1305,
        },
      ),
      'm',
    );
    expect(usage).toEqual({ promptTokens: 1205, completionTokens: 100, cachedTokens: 1024, reasoningTokens: 70 });
    expect(body.usage).toEqual({
      prompt_tokens: 1205,
      completion_tokens: 100,
      total_tokens: 1305,
      prompt_tokens_details: { cached_tokens: 1024 },
      completion_tokens_details: { reasoning_tokens: 70 },
    });
  });

  it('answers content_filter with empty content when the prompt itself was blocked', () => {
    const { body, usage } = chatResponse(
      bytes({ promptFeedback: { blockReason: 'SAFETY' }, usageMetadata: { promptTokenCount: 9, totalTokenCount: 9 } }),
      'gemini-2.5-flash',
    );
    expect(body.choices).toEqual([
      {
        index: 0,
        message: { role: 'assistant', content: '', refusal: null },
        logprobs: null,
        finish_reason: 'content_filter',
      },
    ]);
    expect(usage).toEqual({ promptTokens: 9, completionTokens: 0, cachedTokens: 0 });
  });

  it('returns one choice per candidate when n > 1', () => {
    const payload = bytes({
      candidates: [
        { content: { role: 'model', parts: [{ text: 'one' }] }, finishReason: 'STOP', index: 0 },
        { content: { role: 'model', parts: [{ text: 'two' }] }, finishReason: 'MAX_TOKENS', index: 1 },
      ],
    });
    const choices = chatResponse(payload, 'm').body.choices as any[];
    expect(choices.map((choice) => [choice.index, choice.message.content, choice.finish_reason])).toEqual([
      [0, 'one', 'stop'],
      [1, 'two', 'length'],
    ]);
  });

  it('reports no usage when Gemini sent none, and names the requested model when Gemini names none', () => {
    const { body, usage } = chatResponse(answer({ finishReason: 'STOP' }), 'gemini-2.0-flash');
    expect(usage).toBeUndefined();
    expect(body.usage).toBeUndefined();
    expect(body.model).toBe('gemini-2.0-flash');
  });

  it('fails as a provider error on a body that is not JSON', () => {
    expect(() => chatResponse(new TextEncoder().encode('<html>'), 'm')).toThrow(TollgateError);
  });
});
