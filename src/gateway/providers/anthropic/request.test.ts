import { describe, expect, it } from 'vitest';
import { validateMessagesRequest } from '../../../../test/support/fake-anthropic.ts';
import { TollgateError } from '../../../errors.ts';
import type { ChatRequest } from '../adapter.ts';
import type { ResolvedCredential } from '../types.ts';
import { anthropicAdapter } from './index.ts';
import { DEFAULT_MAX_TOKENS, messagesUrl, toAnthropicRequest } from './request.ts';

const credential = (settings: Record<string, string> = {}): ResolvedCredential => ({
  id: 'cred_1',
  name: 'anthropic-test',
  provider: 'anthropic',
  authMethod: 'api-key',
  secrets: { apiKey: 'sk-ant-test' },
  settings,
});

const PNG = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==';

/** Translates and checks that Anthropic (as the fake models it) would accept the result. */
function translate(body: Partial<ChatRequest>, stream = false): Record<string, unknown> {
  const out = toAnthropicRequest({ model: 'claude-sonnet-4-5', messages: [], ...body } as ChatRequest, stream);
  expect(validateMessagesRequest(out)).toBeUndefined();
  return out;
}

describe('OpenAI chat request → Anthropic Messages request', () => {
  it('posts to {baseUrl}/v1/messages with x-api-key and anthropic-version', async () => {
    const call = await anthropicAdapter.chatRequest(
      { model: 'claude-sonnet-4-5', messages: [{ role: 'user', content: 'Hi' }] },
      credential(),
      false,
    );
    expect(call.url).toBe('https://api.anthropic.com/v1/messages');
    expect(call.headers).toEqual({
      'content-type': 'application/json',
      'x-api-key': 'sk-ant-test',
      'anthropic-version': '2023-06-01',
    });
    expect(JSON.parse(String(call.body))).toEqual({
      model: 'claude-sonnet-4-5',
      max_tokens: DEFAULT_MAX_TOKENS,
      messages: [{ role: 'user', content: [{ type: 'text', text: 'Hi' }] }],
    });
  });

  it('takes a custom base URL with or without /v1 and a trailing slash', () => {
    expect(messagesUrl(credential({ baseUrl: 'http://proxy.local:8080/' }))).toBe(
      'http://proxy.local:8080/v1/messages',
    );
    expect(messagesUrl(credential({ baseUrl: 'http://proxy.local/anthropic/v1' }))).toBe(
      'http://proxy.local/anthropic/v1/messages',
    );
  });

  it('gathers system and developer messages into `system`', () => {
    const out = translate({
      messages: [
        { role: 'system', content: 'You are terse.' },
        { role: 'developer', content: [{ type: 'text', text: 'Answer in French.' }] },
        { role: 'user', content: 'Hello' },
      ],
    });
    expect(out.system).toBe('You are terse.\n\nAnswer in French.');
    expect(out.messages).toEqual([{ role: 'user', content: [{ type: 'text', text: 'Hello' }] }]);
  });

  it('keeps multi-turn order and merges consecutive turns of one role', () => {
    const out = translate({
      messages: [
        { role: 'user', content: 'One' },
        { role: 'user', content: 'Two' },
        { role: 'assistant', content: 'Three' },
        { role: 'assistant', content: '' },
        { role: 'user', content: 'Four' },
      ],
    });
    expect(out.messages).toEqual([
      {
        role: 'user',
        content: [
          { type: 'text', text: 'One' },
          { type: 'text', text: 'Two' },
        ],
      },
      { role: 'assistant', content: [{ type: 'text', text: 'Three' }] },
      { role: 'user', content: [{ type: 'text', text: 'Four' }] },
    ]);
  });

  it('turns data: URLs into base64 image sources and links into url sources', () => {
    const out = translate({
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'Compare these' },
            { type: 'image_url', image_url: { url: `data:image/png;base64,${PNG}`, detail: 'high' } },
            { type: 'image_url', image_url: { url: 'https://example.com/cat.jpg' } },
          ],
        },
      ],
    });
    expect((out.messages as Array<{ content: unknown }>)[0]?.content).toEqual([
      { type: 'text', text: 'Compare these' },
      { type: 'image', source: { type: 'base64', media_type: 'image/png', data: PNG } },
      { type: 'image', source: { type: 'url', url: 'https://example.com/cat.jpg' } },
    ]);
  });

  it('translates tools, tool calls and tool results into tool_use / tool_result pairs', () => {
    const out = translate({
      messages: [
        { role: 'user', content: 'Weather in Paris and Rome?' },
        {
          role: 'assistant',
          content: 'Let me check.',
          tool_calls: [
            { id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } },
            { id: 'call_2', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Rome"}' } },
          ],
        },
        { role: 'tool', tool_call_id: 'call_1', content: '18°C' },
        { role: 'tool', tool_call_id: 'call_2', content: [{ type: 'text', text: '24°C' }] },
        { role: 'user', content: 'Which is warmer?' },
      ],
      tools: [
        {
          type: 'function',
          function: {
            name: 'get_weather',
            description: 'Current weather',
            parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
            strict: true,
          },
        },
        { type: 'function', function: { name: 'now' } },
      ],
      tool_choice: 'required',
    });
    expect(out.tools).toEqual([
      {
        name: 'get_weather',
        description: 'Current weather',
        input_schema: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
      },
      { name: 'now', input_schema: { type: 'object', properties: {} } },
    ]);
    expect(out.tool_choice).toEqual({ type: 'any' });
    expect(out.messages).toEqual([
      { role: 'user', content: [{ type: 'text', text: 'Weather in Paris and Rome?' }] },
      {
        role: 'assistant',
        content: [
          { type: 'text', text: 'Let me check.' },
          { type: 'tool_use', id: 'call_1', name: 'get_weather', input: { city: 'Paris' } },
          { type: 'tool_use', id: 'call_2', name: 'get_weather', input: { city: 'Rome' } },
        ],
      },
      {
        role: 'user',
        content: [
          { type: 'tool_result', tool_use_id: 'call_1', content: '18°C' },
          { type: 'tool_result', tool_use_id: 'call_2', content: '24°C' },
          { type: 'text', text: 'Which is warmer?' },
        ],
      },
    ]);
  });

  it('maps every tool_choice form, and parallel_tool_calls: false', () => {
    const tools = [{ type: 'function', function: { name: 'f', parameters: { type: 'object' } } }];
    const messages = [{ role: 'user', content: 'x' }];
    const choice = (tool_choice: unknown, extra: Record<string, unknown> = {}) =>
      translate({ messages, tools, tool_choice, ...extra }).tool_choice;
    expect(choice('auto')).toEqual({ type: 'auto' });
    expect(choice('none')).toEqual({ type: 'none' });
    expect(choice('required')).toEqual({ type: 'any' });
    expect(choice({ type: 'function', function: { name: 'f' } })).toEqual({ type: 'tool', name: 'f' });
    expect(choice(undefined, { parallel_tool_calls: false })).toEqual({
      type: 'auto',
      disable_parallel_tool_use: true,
    });
    expect(choice('required', { parallel_tool_calls: false })).toEqual({
      type: 'any',
      disable_parallel_tool_use: true,
    });
    // No tools, no tool_choice: Anthropic refuses a choice without tools.
    expect(translate({ messages, tool_choice: 'auto' }).tool_choice).toBeUndefined();
  });

  it('maps sampling, limits, stop sequences, user and stream; drops OpenAI-only fields', () => {
    const out = translate(
      {
        messages: [{ role: 'user', content: 'x' }],
        max_completion_tokens: 300,
        max_tokens: 200,
        temperature: 1.7,
        top_p: 0.9,
        stop: 'END',
        user: 'user-42',
        n: 1,
        seed: 7,
        frequency_penalty: 0.5,
        presence_penalty: 0.5,
        logprobs: false,
        response_format: { type: 'text' },
        stream_options: { include_usage: true },
      },
      true,
    );
    expect(out).toEqual({
      model: 'claude-sonnet-4-5',
      max_tokens: 300,
      temperature: 1,
      top_p: 0.9,
      stop_sequences: ['END'],
      metadata: { user_id: 'user-42' },
      stream: true,
      messages: [{ role: 'user', content: [{ type: 'text', text: 'x' }] }],
    });
    expect(translate({ messages: [{ role: 'user', content: 'x' }], stop: ['a', 'b'] }).stop_sequences).toEqual([
      'a',
      'b',
    ]);
    expect(translate({ messages: [{ role: 'user', content: 'x' }], max_tokens: 12 }).max_tokens).toBe(12);
  });

  it('refuses, as an invalid request, what Anthropic cannot take', () => {
    const bad = (messages: unknown[]) => () =>
      toAnthropicRequest({ model: 'm', messages: messages as ChatRequest['messages'] }, false);
    const badArgs = bad([
      { role: 'assistant', tool_calls: [{ id: 'c', type: 'function', function: { name: 'f', arguments: '{oops' } }] },
    ]);
    expect(badArgs).toThrow(TollgateError);
    expect(badArgs).toThrow(/not valid JSON/);
    expect(bad([{ role: 'user', content: [{ type: 'input_audio', input_audio: {} }] }])).toThrow(/input_audio/);
    expect(bad([{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'ftp://x' } }] }])).toThrow(/image/);
    expect(bad([{ role: 'function', name: 'f', content: 'x' }])).toThrow(/role "function"/);
  });
});
