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

type Json = Record<string, any>;

/**
 * The Responses API's usage for a scenario: `input_tokens` includes cache reads
 * (`input_tokens_details.cached_tokens`), `output_tokens` includes reasoning
 * (`output_tokens_details.reasoning_tokens`).
 */
export function responsesUsage(scenario: Scenario): Json {
  const cached = scenario === 'cache-read' ? REPORTED.cacheRead : 0;
  const reasoning = scenario === 'reasoning' ? REPORTED.reasoning : 0;
  const input = REPORTED.input + cached;
  return {
    input_tokens: input,
    input_tokens_details: { cached_tokens: cached },
    output_tokens: REPORTED.output,
    output_tokens_details: { reasoning_tokens: reasoning },
    total_tokens: input + REPORTED.output,
  };
}

/** The `error` event OpenAI sends when a Responses stream fails part-way. */
const ERROR_EVENT = {
  type: 'error',
  code: 'server_error',
  message: 'The server had an error while processing your request. Sorry about that!',
  param: null,
};

/** Answers `POST /v1/responses` (OpenAI or Azure) in the given scenario. */
export async function serveResponsesScenario(scenario: Scenario, body: Json, response: ServerResponse): Promise<void> {
  const model = String(body.model ?? 'gpt-4o');
  const tools = Array.isArray(body.tools) ? (body.tools as Json[]) : [];
  const toolName = firstToolName(tools.map((tool) => tool?.name));
  const toolCall = scenario === 'tool';
  const usage = scenario === 'no-usage' ? null : responsesUsage(scenario);
  const text = TEXT_CHUNKS.join('');
  const messageItem = (status: string, content: Json[]) => ({
    type: 'message',
    id: 'msg_scenario1',
    status,
    role: 'assistant',
    content,
  });
  const callItem = (status: string, args: string) => ({
    type: 'function_call',
    id: 'fc_scenario1',
    call_id: 'call_scenario1',
    name: toolName,
    arguments: args,
    status,
  });
  const textPart = (value: string) => ({ type: 'output_text', text: value, annotations: [] });
  const envelope = (status: string, output: Json[], withUsage: Json | null) => ({
    id: 'resp_scenario0123456789',
    object: 'response',
    created_at: 1_764_000_000,
    status,
    error: null,
    incomplete_details: null,
    instructions: body.instructions ?? null,
    max_output_tokens: body.max_output_tokens ?? null,
    model,
    output,
    parallel_tool_calls: true,
    previous_response_id: null,
    store: false,
    temperature: 1,
    text: { format: { type: 'text' } },
    tool_choice: 'auto',
    tools,
    top_p: 1,
    truncation: 'disabled',
    usage: withUsage,
    metadata: {},
  });
  const finalOutput = toolCall
    ? [callItem('completed', TOOL_ARGUMENTS.join(''))]
    : [messageItem('completed', [textPart(text)])];

  if (body.stream !== true) {
    response.writeHead(200, { 'content-type': 'application/json' });
    response.end(JSON.stringify(envelope('completed', finalOutput, usage)));
    return;
  }

  const events: Json[] = [
    { type: 'response.created', response: envelope('in_progress', [], null) },
    { type: 'response.in_progress', response: envelope('in_progress', [], null) },
  ];
  if (toolCall) {
    events.push(
      { type: 'response.output_item.added', output_index: 0, item: callItem('in_progress', '') },
      ...TOOL_ARGUMENTS.map((delta) => ({
        type: 'response.function_call_arguments.delta',
        item_id: 'fc_scenario1',
        output_index: 0,
        delta,
      })),
      {
        type: 'response.function_call_arguments.done',
        item_id: 'fc_scenario1',
        output_index: 0,
        arguments: TOOL_ARGUMENTS.join(''),
      },
      { type: 'response.output_item.done', output_index: 0, item: finalOutput[0] },
    );
  } else {
    const at = { item_id: 'msg_scenario1', output_index: 0, content_index: 0 };
    events.push(
      { type: 'response.output_item.added', output_index: 0, item: messageItem('in_progress', []) },
      { type: 'response.content_part.added', ...at, part: textPart('') },
      ...TEXT_CHUNKS.map((delta) => ({ type: 'response.output_text.delta', ...at, delta, logprobs: [] })),
      { type: 'response.output_text.done', ...at, text, logprobs: [] },
      { type: 'response.content_part.done', ...at, part: textPart(text) },
      { type: 'response.output_item.done', output_index: 0, item: finalOutput[0] },
    );
  }
  events.push({ type: 'response.completed', response: envelope('completed', finalOutput, usage) });

  response.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache' });
  // created, in_progress, output_item.added, content_part.added, then the partial text.
  const cut = scenario === 'stall' || scenario === 'error' ? 4 + PARTIAL_CHUNKS : events.length;
  let sequence = 0;
  const write = (event: Json) =>
    response.write(`event: ${event.type}\ndata: ${spaced({ ...event, sequence_number: sequence++ })}\n\n`);
  for (const event of events.slice(0, cut)) {
    if (response.destroyed) return;
    write(event);
    await sleep(CHUNK_GAP_MS);
  }
  if (scenario === 'stall') return stallUntilClosed(response);
  if (scenario === 'error') write(ERROR_EVENT);
  response.end();
}
