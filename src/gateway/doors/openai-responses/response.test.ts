import { describe, expect, it } from 'vitest';
import { chatToResponse, responsesUsage } from './response.ts';

const body = {
  model: 'claude',
  input: 'Weather in Paris?',
  instructions: 'Be brief.',
  max_output_tokens: 64,
  metadata: { team: 'search' },
};

function completion(message: Record<string, unknown>, finishReason = 'stop', usage?: Record<string, unknown>) {
  return {
    id: 'chatcmpl-1',
    object: 'chat.completion',
    created: 1_767_000_000,
    model: 'claude-sonnet-4-5',
    choices: [{ index: 0, message: { role: 'assistant', ...message }, finish_reason: finishReason }],
    usage: usage ?? {
      prompt_tokens: 1187,
      completion_tokens: 73,
      total_tokens: 1260,
      prompt_tokens_details: { cached_tokens: 384, cache_write_tokens: 211 },
      completion_tokens_details: { reasoning_tokens: 17 },
    },
  };
}

describe('chat completion → Responses response', () => {
  it('gives a completed response with the text as one message, named after the requested model', () => {
    const response = chatToResponse(completion({ content: 'Sunny, 18°C.' }), body);
    expect(response).toMatchObject({
      object: 'response',
      created_at: 1_767_000_000,
      status: 'completed',
      incomplete_details: null,
      error: null,
      model: 'claude',
      instructions: 'Be brief.',
      max_output_tokens: 64,
      store: false,
      metadata: { team: 'search' },
      output: [
        {
          type: 'message',
          role: 'assistant',
          status: 'completed',
          content: [{ type: 'output_text', text: 'Sunny, 18°C.', annotations: [], logprobs: [] }],
        },
      ],
      usage: {
        input_tokens: 1187,
        input_tokens_details: { cached_tokens: 384, cache_write_tokens: 211 },
        output_tokens: 73,
        output_tokens_details: { reasoning_tokens: 17 },
        total_tokens: 1260,
      },
    });
    expect(response.id).toMatch(/^resp_[0-9a-f]{32}$/);
    expect(response.output[0]?.id).toMatch(/^msg_/);
  });

  it('gives each tool call as a function_call item with its call id', () => {
    const response = chatToResponse(
      completion(
        {
          content: null,
          tool_calls: [
            { id: 'toolu_01', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } },
            { id: 'toolu_02', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Oslo"}' } },
          ],
        },
        'tool_calls',
      ),
      body,
    );
    expect(response.status).toBe('completed');
    expect(response.output).toMatchObject([
      {
        type: 'function_call',
        status: 'completed',
        call_id: 'toolu_01',
        name: 'get_weather',
        arguments: '{"city":"Paris"}',
      },
      {
        type: 'function_call',
        status: 'completed',
        call_id: 'toolu_02',
        name: 'get_weather',
        arguments: '{"city":"Oslo"}',
      },
    ]);
    expect(response.output[0]?.id).toMatch(/^fc_/);
  });

  it('gives the namespace back on a call of a namespaced tool', () => {
    const tools = [
      { type: 'namespace', name: 'agents', tools: [{ type: 'function', name: 'spawn_agent', parameters: {} }] },
    ];
    const response = chatToResponse(
      completion(
        {
          content: null,
          tool_calls: [{ id: 'c1', type: 'function', function: { name: 'spawn_agent', arguments: '{}' } }],
        },
        'tool_calls',
      ),
      { ...body, tools },
    );
    expect(response.output[0]).toMatchObject({ type: 'function_call', name: 'spawn_agent', namespace: 'agents' });
  });

  it('gives a call of a custom tool as a custom_tool_call with its free-form input', () => {
    const tools = [{ type: 'custom', name: 'apply_patch' }];
    const response = chatToResponse(
      completion(
        {
          content: null,
          tool_calls: [
            {
              id: 'c1',
              type: 'function',
              function: { name: 'apply_patch', arguments: '{"input":"*** Begin Patch\\n"}' },
            },
          ],
        },
        'tool_calls',
      ),
      { ...body, tools },
    );
    expect(response.output[0]).toMatchObject({
      type: 'custom_tool_call',
      call_id: 'c1',
      name: 'apply_patch',
      input: '*** Begin Patch\n',
    });
    expect(response.output[0]?.id).toMatch(/^ctc_/);
  });

  it('is incomplete, for the output cap, when the answer was cut at max_output_tokens', () => {
    const response = chatToResponse(completion({ content: 'Sunny and' }, 'length'), body);
    expect(response.status).toBe('incomplete');
    expect(response.incomplete_details).toEqual({ reason: 'max_output_tokens' });
    expect(response.output[0]?.status).toBe('incomplete');
  });

  it('gives a refusal as a refusal part', () => {
    const response = chatToResponse(completion({ content: null, refusal: 'I cannot help with that.' }), body);
    expect(response.output).toMatchObject([{ content: [{ type: 'refusal', refusal: 'I cannot help with that.' }] }]);
  });

  it('leaves usage null when the provider reported none', () => {
    const response = chatToResponse({ ...completion({ content: 'Hi' }), usage: undefined }, body);
    expect(response.usage).toBeNull();
  });

  it('writes usage without cache writes when there were none', () => {
    expect(responsesUsage({ promptTokens: 10, completionTokens: 5, cachedTokens: 0 })).toEqual({
      input_tokens: 10,
      input_tokens_details: { cached_tokens: 0 },
      output_tokens: 5,
      output_tokens_details: { reasoning_tokens: 0 },
      total_tokens: 15,
    });
  });
});
