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

/** A mid-stream error as OpenAI sends it: a `data:` event whose JSON is `{"error": …}`. */
const ERROR_EVENT = readFileSync(
  new URL('../../fixtures/openai/chat-completion-stream-error-event.txt', import.meta.url),
  'utf8',
);

type Json = Record<string, any>;

/**
 * OpenAI's usage for a scenario: `prompt_tokens` includes cache reads
 * (`prompt_tokens_details.cached_tokens`), `completion_tokens` includes reasoning
 * (`completion_tokens_details.reasoning_tokens`). OpenAI neither reports nor bills cache writes.
 */
export function openAIUsage(scenario: Scenario): Json {
  const cached = scenario === 'cache-read' ? REPORTED.cacheRead : 0;
  const reasoning = scenario === 'reasoning' ? REPORTED.reasoning : 0;
  const prompt = REPORTED.input + cached;
  return {
    prompt_tokens: prompt,
    completion_tokens: REPORTED.output,
    total_tokens: prompt + REPORTED.output,
    prompt_tokens_details: { cached_tokens: cached, audio_tokens: 0 },
    completion_tokens_details: {
      reasoning_tokens: reasoning,
      audio_tokens: 0,
      accepted_prediction_tokens: 0,
      rejected_prediction_tokens: 0,
    },
  };
}

/** Answers a Chat Completions request (OpenAI or Azure) in the given scenario. */
export async function serveOpenAIScenario(scenario: Scenario, body: Json, response: ServerResponse): Promise<void> {
  const model = String(body.model ?? 'gpt-4o');
  const tools = Array.isArray(body.tools) ? (body.tools as Json[]) : [];
  const toolName = firstToolName(tools.map((tool) => tool?.function?.name));
  const toolCall = scenario === 'tool';
  const id = 'chatcmpl-scenario0123456789';
  const created = 1_764_000_000;
  const usage = scenario === 'no-usage' ? undefined : openAIUsage(scenario);

  if (body.stream !== true) {
    const message = toolCall
      ? {
          role: 'assistant',
          content: null,
          tool_calls: [
            {
              id: 'call_scenario1',
              type: 'function',
              function: { name: toolName, arguments: TOOL_ARGUMENTS.join('') },
            },
          ],
          refusal: null,
        }
      : { role: 'assistant', content: TEXT_CHUNKS.join(''), refusal: null };
    const answer = {
      id,
      object: 'chat.completion',
      created,
      model,
      choices: [{ index: 0, message, logprobs: null, finish_reason: toolCall ? 'tool_calls' : 'stop' }],
      ...(usage && { usage }),
      system_fingerprint: 'fp_scenario',
    };
    response.writeHead(200, { 'content-type': 'application/json' });
    response.end(JSON.stringify(answer));
    return;
  }

  const includeUsage = body.stream_options?.include_usage === true;
  const chunk = (delta: Json, finish: string | null = null) => ({
    id,
    object: 'chat.completion.chunk',
    created,
    model,
    system_fingerprint: 'fp_scenario',
    choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }],
    ...(includeUsage && { usage: null }),
  });
  const events: Json[] = [chunk({ role: 'assistant', content: '', refusal: null })];
  if (toolCall) {
    events.push(
      chunk({
        tool_calls: [{ index: 0, id: 'call_scenario1', type: 'function', function: { name: toolName, arguments: '' } }],
      }),
      ...TOOL_ARGUMENTS.map((piece) => chunk({ tool_calls: [{ index: 0, function: { arguments: piece } }] })),
    );
  } else {
    events.push(...TEXT_CHUNKS.map((text) => chunk({ content: text })));
  }
  events.push(chunk({}, toolCall ? 'tool_calls' : 'stop'));
  if (includeUsage && usage) {
    events.push({ id, object: 'chat.completion.chunk', created, model, choices: [], usage });
  }

  response.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
  const cut = scenario === 'stall' || scenario === 'error' ? 1 + PARTIAL_CHUNKS : events.length;
  for (const event of events.slice(0, cut)) {
    if (response.destroyed) return;
    response.write(`data: ${spaced(event)}\n\n`);
    await sleep(CHUNK_GAP_MS);
  }
  if (scenario === 'stall') return stallUntilClosed(response);
  if (scenario === 'error') {
    response.end(ERROR_EVENT);
    return;
  }
  response.end('data: [DONE]\n\n');
}
