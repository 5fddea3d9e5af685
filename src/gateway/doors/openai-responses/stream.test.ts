import OpenAI from 'openai';
import type { ResponseStreamEvent } from 'openai/resources/responses/responses';
import { describe, expect, it } from 'vitest';
import { TollgateError } from '../../../errors.ts';
import { eventData } from '../../sse.ts';
import { ChunksToResponseEvents } from './stream.ts';

const body = { model: 'claude', input: 'Weather?', stream: true };
const USAGE = {
  prompt_tokens: 1187,
  completion_tokens: 73,
  total_tokens: 1260,
  prompt_tokens_details: { cached_tokens: 384 },
  completion_tokens_details: { reasoning_tokens: 17 },
};

const chunk = (delta: Record<string, unknown>, finishReason: string | null = null) => ({
  id: 'chatcmpl-1',
  object: 'chat.completion.chunk',
  created: 1_767_000_000,
  model: 'claude-sonnet-4-5',
  choices: [{ index: 0, delta, finish_reason: finishReason }],
});
const usageChunk = { id: 'chatcmpl-1', object: 'chat.completion.chunk', created: 1, choices: [], usage: USAGE };

/** Every event the translator writes for the chunks, then the end. */
function translate(chunks: Array<Record<string, unknown>>, endUsage?: Parameters<ChunksToResponseEvents['end']>[0]) {
  const translator = new ChunksToResponseEvents(body);
  const events = chunks.flatMap((item) => translator.push(item));
  events.push(...translator.end(endUsage));
  return { translator, events };
}

const parsed = (events: string[]) => events.map((event) => eventData(event) as Record<string, any>);

/**
 * Serves the events as an HTTP event stream to the official OpenAI SDK's `responses.stream`:
 * the final response it builds, and the events it saw.
 */
async function throughSdk(events: string[]) {
  const client = new OpenAI({
    apiKey: 'unused',
    baseURL: 'http://tollgate.invalid/v1',
    maxRetries: 0,
    fetch: async () => new Response(events.join(''), { headers: { 'content-type': 'text/event-stream' } }),
  });
  const stream = client.responses.stream({ model: 'claude', input: 'Weather?' });
  const seen: ResponseStreamEvent[] = [];
  stream.on('event', (event) => seen.push(event));
  return { final: await stream.finalResponse(), seen };
}

describe('chat chunks → Responses stream events', () => {
  const text = [chunk({ role: 'assistant', content: '' }), chunk({ content: 'Sunny' }), chunk({ content: ', 18°C.' })];

  it('writes the lifecycle and text events in order, numbered from 0, with event names matching types', () => {
    const { events } = translate([...text, chunk({}, 'stop'), usageChunk]);
    for (const event of events) {
      const [nameLine] = event.split('\n');
      expect(nameLine).toBe(`event: ${(eventData(event) as { type: string }).type}`);
    }
    const data = parsed(events);
    expect(data.map((event) => event.type)).toEqual([
      'response.created',
      'response.in_progress',
      'response.output_item.added',
      'response.content_part.added',
      'response.output_text.delta',
      'response.output_text.delta',
      'response.output_text.done',
      'response.content_part.done',
      'response.output_item.done',
      'response.completed',
    ]);
    expect(data.map((event) => event.sequence_number)).toEqual([...data.keys()]);
    expect(data[0]?.response).toMatchObject({ status: 'in_progress', model: 'claude', output: [], usage: null });
    expect(data[4]).toMatchObject({ output_index: 0, content_index: 0, delta: 'Sunny', logprobs: [] });
    expect(data[6]).toMatchObject({ text: 'Sunny, 18°C.' });
    expect(data.at(-1)?.response).toMatchObject({
      status: 'completed',
      usage: {
        input_tokens: 1187,
        input_tokens_details: { cached_tokens: 384 },
        output_tokens: 73,
        output_tokens_details: { reasoning_tokens: 17 },
        total_tokens: 1260,
      },
    });
  });

  it('completes as soon as the finish reason and the usage are known, and writes nothing after', () => {
    const translator = new ChunksToResponseEvents(body);
    const events = [...text, chunk({}, 'stop'), usageChunk].flatMap((item) => translator.push(item));
    expect((eventData(events.at(-1) as string) as { type: string }).type).toBe('response.completed');
    expect(translator.end(undefined)).toEqual([]);
    expect(translator.push(chunk({ content: 'late' }))).toEqual([]);
  });

  it('builds, in the OpenAI SDK, the same response that response.completed carries', async () => {
    const { events } = translate([...text, chunk({}, 'stop'), usageChunk]);
    const { final, seen } = await throughSdk(events);
    expect(final.output_text).toBe('Sunny, 18°C.');
    expect(final.status).toBe('completed');
    expect(final.usage?.output_tokens).toBe(73);
    expect(seen.filter((event) => event.type === 'response.output_text.delta')).toHaveLength(2);
  });

  it('streams tool calls as function_call items with their argument deltas', async () => {
    const calls = [
      chunk({ role: 'assistant', content: 'Checking.' }),
      chunk({
        tool_calls: [{ index: 0, id: 'toolu_01', type: 'function', function: { name: 'get_weather', arguments: '' } }],
      }),
      chunk({ tool_calls: [{ index: 0, function: { arguments: '{"city":' } }] }),
      chunk({ tool_calls: [{ index: 0, function: { arguments: '"Paris"}' } }] }),
      chunk({
        tool_calls: [
          {
            index: 1,
            id: 'toolu_02',
            type: 'function',
            function: { name: 'get_weather', arguments: '{"city":"Oslo"}' },
          },
        ],
      }),
      chunk({}, 'tool_calls'),
      usageChunk,
    ];
    const { events, translator } = translate(calls);
    const data = parsed(events);
    expect(data.map((event) => event.type)).toEqual([
      'response.created',
      'response.in_progress',
      'response.output_item.added',
      'response.content_part.added',
      'response.output_text.delta',
      'response.output_text.done',
      'response.content_part.done',
      'response.output_item.done',
      'response.output_item.added',
      'response.function_call_arguments.delta',
      'response.function_call_arguments.delta',
      'response.output_item.added',
      'response.function_call_arguments.delta',
      'response.function_call_arguments.done',
      'response.output_item.done',
      'response.function_call_arguments.done',
      'response.output_item.done',
      'response.completed',
    ]);
    expect(data[8]).toMatchObject({
      output_index: 1,
      item: { type: 'function_call', status: 'in_progress', call_id: 'toolu_01', name: 'get_weather', arguments: '' },
    });
    expect(data[13]).toMatchObject({ output_index: 1, name: 'get_weather', arguments: '{"city":"Paris"}' });
    expect(translator.outputText).toBe('Checking.get_weather{"city":"Paris"}get_weather{"city":"Oslo"}');
    const { final } = await throughSdk(events);
    expect(final.output).toMatchObject([
      { type: 'message', content: [{ type: 'output_text', text: 'Checking.' }] },
      { type: 'function_call', call_id: 'toolu_01', arguments: '{"city":"Paris"}', status: 'completed' },
      { type: 'function_call', call_id: 'toolu_02', arguments: '{"city":"Oslo"}', status: 'completed' },
    ]);
  });

  it('streams a custom tool call with its input given whole when the call ends', async () => {
    const translator = new ChunksToResponseEvents({ ...body, tools: [{ type: 'custom', name: 'apply_patch' }] });
    const events = [
      chunk({
        tool_calls: [{ index: 0, id: 'c1', type: 'function', function: { name: 'apply_patch', arguments: '{"in' } }],
      }),
      chunk({ tool_calls: [{ index: 0, function: { arguments: 'put":"*** Begin Patch\\n"}' } }] }),
      chunk({}, 'tool_calls'),
      usageChunk,
    ].flatMap((item) => translator.push(item));
    const data = parsed(events);
    expect(data.map((event) => event.type).slice(2)).toEqual([
      'response.output_item.added',
      'response.custom_tool_call_input.delta',
      'response.custom_tool_call_input.done',
      'response.output_item.done',
      'response.completed',
    ]);
    expect(data[2]?.item).toMatchObject({ type: 'custom_tool_call', name: 'apply_patch', input: '' });
    expect(data[4]).toMatchObject({ input: '*** Begin Patch\n' });
    const { final } = await throughSdk(events);
    expect(final.output).toMatchObject([{ type: 'custom_tool_call', call_id: 'c1', input: '*** Begin Patch\n' }]);
  });

  it('ends as response.incomplete when the output cap cut the answer', () => {
    const { events } = translate([...text, chunk({}, 'length'), usageChunk]);
    const last = parsed(events).at(-1);
    expect(last).toMatchObject({
      type: 'response.incomplete',
      response: { status: 'incomplete', incomplete_details: { reason: 'max_output_tokens' } },
    });
    expect(last?.response.output[0].status).toBe('incomplete');
  });

  it('writes refusals as refusal parts', async () => {
    const { events } = translate([chunk({ refusal: 'I cannot' }), chunk({ refusal: ' help.' }), chunk({}, 'stop')]);
    expect(parsed(events).map((event) => event.type)).toContain('response.refusal.delta');
    const { final } = await throughSdk(events);
    expect(final.output).toMatchObject([
      { type: 'message', content: [{ type: 'refusal', refusal: 'I cannot help.' }] },
    ]);
  });

  it('ends with the usage it is given when the provider reported none (counted)', () => {
    const { events } = translate([...text, chunk({}, 'stop')], {
      promptTokens: 12,
      completionTokens: 4,
      cachedTokens: 0,
      source: 'counted',
    });
    expect(parsed(events).at(-1)?.response.usage).toMatchObject({ input_tokens: 12, output_tokens: 4 });
  });

  it('writes a whole, empty response for a stream that brought nothing', () => {
    const { events } = translate([]);
    expect(parsed(events).map((event) => event.type)).toEqual([
      'response.created',
      'response.in_progress',
      'response.completed',
    ]);
  });

  it('ends a broken stream with an error event the OpenAI SDK raises, then response.failed, numbered on', async () => {
    const translator = new ChunksToResponseEvents(body);
    const events = text.flatMap((item) => translator.push(item));
    const failure = new TollgateError('TG_ERR_PROVIDER_UNREACHABLE', 'anthropic', 'stream interrupted');
    const ending = translator.streamError(failure);
    const [error, failed] = ending
      .split('\n\n')
      .filter(Boolean)
      .map((event) => eventData(`${event}\n\n`) as Record<string, any>);
    expect(error).toEqual({
      type: 'error',
      sequence_number: events.length,
      error: {
        type: 'api_error',
        code: 'provider_unreachable',
        message: 'Provider anthropic could not be reached: stream interrupted',
        param: null,
      },
    });
    expect(failed).toMatchObject({
      type: 'response.failed',
      sequence_number: events.length + 1,
      response: { status: 'failed', error: { code: 'provider_unreachable' } },
    });
    await expect(throughSdk([...events, ending])).rejects.toThrow(/could not be reached/);
  });
});
