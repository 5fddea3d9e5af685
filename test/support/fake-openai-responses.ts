import { readFileSync } from 'node:fs';
import type { ServerResponse } from 'node:http';

const fixture = (name: string) => readFileSync(new URL(`../fixtures/openai/${name}`, import.meta.url), 'utf8');
const TEXT = JSON.parse(fixture('responses.json'));
const FUNCTION_CALL = JSON.parse(fixture('responses-function-call.json'));
const STREAMS = {
  text: fixture('responses-stream.sse'),
  functionCall: fixture('responses-stream-function-call.sse'),
  error: fixture('responses-stream-error.sse'),
};

type Json = Record<string, any>;

/**
 * The usage every fixture reports: distinctive, so a test can tell reported figures from
 * counted ones. `input_tokens` includes the cached tokens, `output_tokens` the reasoning ones.
 */
export const RESPONSES_USAGE = { input: 1187, cached: 384, output: 73, reasoning: 17 } as const;

/**
 * The answer as a model would give it for this request: named after the model asked for, and
 * never more output than `max_output_tokens` allows (cut short, the response is `incomplete`).
 */
function shaped(answer: Json, body: Json): Json {
  const cap = typeof body.max_output_tokens === 'number' ? body.max_output_tokens : Number.POSITIVE_INFINITY;
  const out = structuredClone(answer);
  out.model = String(body.model ?? out.model);
  if (body.tools) out.tools = body.tools;
  if (out.usage && RESPONSES_USAGE.output > cap) {
    out.usage.output_tokens = cap;
    out.usage.output_tokens_details.reasoning_tokens = Math.min(RESPONSES_USAGE.reasoning, cap);
    out.usage.total_tokens = out.usage.input_tokens + cap;
    out.status = 'incomplete';
    out.incomplete_details = { reason: 'max_output_tokens' };
    for (const item of out.output) item.status = 'incomplete';
  }
  return out;
}

/**
 * `POST /v1/responses` for the OpenAI fake, from the fixtures in test/fixtures/openai. The
 * model picks a behaviour, as for chat: `tool-call` calls the request's first tool (the
 * fixture's `get_weather` call), `stream-error` fails part-way through a stream with an `error`
 * and a `response.failed` event, `no-usage` reports no usage, anything else answers text.
 */
export async function answerResponses(body: Json, response: ServerResponse, chunkDelayMs: number): Promise<void> {
  const model = String(body.model ?? '');
  const toolCall = model === 'tool-call';
  const usage = model !== 'no-usage';
  if (body.stream !== true) {
    const answer = shaped(toolCall ? FUNCTION_CALL : TEXT, body);
    if (!usage) answer.usage = null;
    response.writeHead(200, { 'content-type': 'application/json' });
    response.end(JSON.stringify(answer));
    return;
  }
  const source = model === 'stream-error' ? STREAMS.error : toolCall ? STREAMS.functionCall : STREAMS.text;
  response.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache' });
  for (const event of source.split('\n\n').filter((text) => text.trim() !== '')) {
    if (response.destroyed) return;
    const data = event.split('\n')[1] ?? '';
    const parsed = JSON.parse(data.slice('data: '.length)) as Json;
    if (parsed.response) {
      parsed.response = shaped(parsed.response, body);
      if (!usage) parsed.response.usage = null;
      // Cut short by the output cap, a stream ends with `response.incomplete`.
      if (parsed.type === 'response.completed' && parsed.response.status === 'incomplete') {
        parsed.type = 'response.incomplete';
      }
    }
    response.write(`event: ${parsed.type}\ndata: ${JSON.stringify(parsed)}\n\n`);
    if (chunkDelayMs > 0) await new Promise((resolve) => setTimeout(resolve, chunkDelayMs));
  }
  response.end();
}
