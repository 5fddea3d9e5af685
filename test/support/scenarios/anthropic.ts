import { readFileSync } from 'node:fs';
import type { ServerResponse } from 'node:http';
import {
  CHUNK_GAP_MS,
  firstToolName,
  PARTIAL_CHUNKS,
  REPORTED,
  type Scenario,
  sleep,
  spaced,
  stallUntilClosed,
  TEXT_CHUNKS,
  TOOL_ARGUMENTS,
} from './scenario.ts';

/** The `event: error` of Anthropic's streaming guide (the last event of the recorded transcript). */
const ERROR_EVENT = `${readFileSync(new URL('../../fixtures/anthropic/stream-error.txt', import.meta.url), 'utf8')
  .split('\n\n')
  .filter((event) => event.startsWith('event: error'))[0]!}\n\n`;

type Json = Record<string, any>;

/**
 * Anthropic's usage for a scenario: `input_tokens` excludes cache reads and writes, which come
 * apart (`cache_read_input_tokens`, `cache_creation_input_tokens`, split by life in
 * `cache_creation`). Thinking is part of `output_tokens` and not reported apart, so Anthropic
 * has no reasoning scenario.
 */
export function anthropicUsage(scenario: Scenario, output: number): Json {
  const read = scenario === 'cache-read' ? REPORTED.cacheRead : 0;
  const write5m = scenario === 'cache-write' ? REPORTED.cacheWrite5m : 0;
  const write1h = scenario === 'cache-write' ? REPORTED.cacheWrite1h : 0;
  return {
    input_tokens: REPORTED.input,
    cache_creation_input_tokens: write5m + write1h,
    cache_read_input_tokens: read,
    cache_creation: { ephemeral_5m_input_tokens: write5m, ephemeral_1h_input_tokens: write1h },
    output_tokens: output,
    service_tier: 'standard',
  };
}

const sse = (type: string, data: Json) => `event: ${type}\ndata: ${spaced({ type, ...data })}\n\n`;

/** Answers a Messages request in the given scenario. */
export async function serveAnthropicScenario(scenario: Scenario, body: Json, response: ServerResponse): Promise<void> {
  const model = String(body.model ?? 'claude-sonnet-4-5');
  const tools = Array.isArray(body.tools) ? (body.tools as Json[]) : [];
  const toolName = firstToolName(tools.map((tool) => tool?.name));
  const toolCall = scenario === 'tool';
  const noUsage = scenario === 'no-usage';
  const id = 'msg_scenario0123456789';
  const headers = { 'request-id': 'req_scenario0123456789' };

  if (body.stream !== true) {
    const content = toolCall
      ? [
          { type: 'text', text: 'Let me look that up.' },
          { type: 'tool_use', id: 'toolu_scenario1', name: toolName, input: JSON.parse(TOOL_ARGUMENTS.join('')) },
        ]
      : [{ type: 'text', text: TEXT_CHUNKS.join('') }];
    const answer = {
      id,
      type: 'message',
      role: 'assistant',
      model,
      content,
      stop_reason: toolCall ? 'tool_use' : 'end_turn',
      stop_sequence: null,
      ...(!noUsage && { usage: anthropicUsage(scenario, REPORTED.output) }),
    };
    response.writeHead(200, { 'content-type': 'application/json', ...headers });
    response.end(JSON.stringify(answer));
    return;
  }

  const events: string[] = [
    sse('message_start', {
      message: {
        id,
        type: 'message',
        role: 'assistant',
        content: [],
        model,
        stop_reason: null,
        stop_sequence: null,
        ...(!noUsage && { usage: anthropicUsage(scenario, 1) }),
      },
    }),
  ];
  if (toolCall) {
    events.push(
      sse('content_block_start', {
        index: 0,
        content_block: { type: 'tool_use', id: 'toolu_scenario1', name: toolName, input: {} },
      }),
      ...TOOL_ARGUMENTS.map((piece) =>
        sse('content_block_delta', { index: 0, delta: { type: 'input_json_delta', partial_json: piece } }),
      ),
    );
  } else {
    events.push(
      sse('content_block_start', { index: 0, content_block: { type: 'text', text: '' } }),
      ...TEXT_CHUNKS.map((text) => sse('content_block_delta', { index: 0, delta: { type: 'text_delta', text } })),
    );
  }
  events.push(
    sse('content_block_stop', { index: 0 }),
    sse('message_delta', {
      delta: { stop_reason: toolCall ? 'tool_use' : 'end_turn', stop_sequence: null },
      ...(!noUsage && { usage: { output_tokens: REPORTED.output } }),
    }),
    sse('message_stop', {}),
  );

  response.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache',
    ...headers,
  });
  // message_start, content_block_start, then the partial text.
  const cut = scenario === 'stall' || scenario === 'error' ? 2 + PARTIAL_CHUNKS : events.length;
  for (const event of events.slice(0, cut)) {
    if (response.destroyed) return;
    response.write(event);
    await sleep(CHUNK_GAP_MS);
  }
  if (scenario === 'stall') return stallUntilClosed(response);
  response.end(scenario === 'error' ? ERROR_EVENT : undefined);
}
