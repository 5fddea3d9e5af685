import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { errorMessage } from './errors.ts';
import { finishReason } from './finish-reason.ts';
import { chatResponse } from './response.ts';

const fixture = (name: string) => readFileSync(new URL(`../../../../test/fixtures/bedrock/${name}`, import.meta.url));
const bytes = (value: unknown) => new TextEncoder().encode(JSON.stringify(value));

describe('Bedrock chat response', () => {
  it('turns a text answer into a chat.completion with usage', () => {
    const { body, usage } = chatResponse(fixture('converse-text.json'), 'claude-haiku');
    expect(body).toMatchObject({
      object: 'chat.completion',
      model: 'claude-haiku',
      choices: [
        {
          index: 0,
          message: {
            role: 'assistant',
            content: expect.stringMatching(/^Here is a list of 3 pop songs.*by Oasis$/s),
          },
          finish_reason: 'stop',
        },
      ],
      usage: {
        prompt_tokens: 125,
        completion_tokens: 60,
        total_tokens: 185,
        prompt_tokens_details: { cached_tokens: 0 },
        completion_tokens_details: { reasoning_tokens: 0 },
      },
    });
    expect(body.id).toMatch(/^chatcmpl-[0-9a-f]{32}$/);
    expect(typeof body.created).toBe('number');
    expect(usage).toEqual({ promptTokens: 125, completionTokens: 60, cachedTokens: 0 });
  });

  it('turns tool use into tool_calls with JSON-string arguments', () => {
    const { body } = chatResponse(fixture('converse-tool-use.json'), 'claude');
    const choice = (body.choices as Array<Record<string, any>>)[0]!;
    expect(choice.finish_reason).toBe('tool_calls');
    expect(choice.message.content).toBe("I'll look up the most popular song on WZPZ.");
    expect(choice.message.tool_calls).toEqual([
      {
        id: 'tooluse_kZJMlvQmRJ6eAyJE5GIl7Q',
        type: 'function',
        function: { name: 'top_song', arguments: '{"sign":"WZPZ"}' },
      },
    ]);
  });

  it('gives null content when the answer is only a tool call', () => {
    const { body } = chatResponse(
      bytes({
        output: { message: { role: 'assistant', content: [{ toolUse: { toolUseId: 't', name: 'f', input: {} } }] } },
        stopReason: 'tool_use',
      }),
      'm',
    );
    expect((body.choices as any)[0].message).toMatchObject({ content: null, tool_calls: [{ id: 't' }] });
    expect(body.usage).toBeUndefined();
  });

  it('counts prompt-cache reads and writes as prompt tokens, and reads as cached tokens', () => {
    const { body, usage } = chatResponse(fixture('converse-cached.json'), 'claude');
    expect(usage).toEqual({
      promptTokens: 12 + 1800 + 248,
      completionTokens: 18,
      cachedTokens: 1800,
      cacheWriteTokens: 248,
    });
    expect(body.usage).toEqual({
      prompt_tokens: 2060,
      completion_tokens: 18,
      total_tokens: 2078,
      prompt_tokens_details: { cached_tokens: 1800, cache_write_tokens: 248 },
      completion_tokens_details: { reasoning_tokens: 0 },
    });
  });

  it('maps every stop reason to a finish reason', () => {
    expect(finishReason('end_turn')).toBe('stop');
    expect(finishReason('stop_sequence')).toBe('stop');
    expect(finishReason('max_tokens')).toBe('length');
    expect(finishReason('model_context_window_exceeded')).toBe('length');
    expect(finishReason('tool_use')).toBe('tool_calls');
    expect(finishReason('guardrail_intervened')).toBe('content_filter');
    expect(finishReason('content_filtered')).toBe('content_filter');
    expect(finishReason(undefined)).toBe('stop');
    const stopped = chatResponse(
      bytes({ output: { message: { role: 'assistant', content: [{ text: 'a' }] } }, stopReason: 'max_tokens' }),
      'm',
    );
    expect((stopped.body.choices as any)[0].finish_reason).toBe('length');
  });

  it('refuses a body that is not JSON', () => {
    expect(() => chatResponse(new TextEncoder().encode('<html>'), 'm')).toThrow(/not JSON/);
  });

  it("reads Bedrock's error message", () => {
    expect(errorMessage(bytes({ message: 'Too many requests, please wait before trying again.' }))).toBe(
      'Too many requests, please wait before trying again.',
    );
    expect(errorMessage(bytes({ Message: 'User is not authorized' }))).toBe('User is not authorized');
    expect(errorMessage(bytes({ other: 1 }))).toBeUndefined();
    expect(errorMessage(new TextEncoder().encode('Bad Gateway'))).toBeUndefined();
  });
});
