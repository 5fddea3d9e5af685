import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { serveAnthropicScenario } from './scenarios/anthropic.ts';
import { takeScenario } from './scenarios/scenario.ts';

const fixture = (name: string) => readFileSync(new URL(`../fixtures/anthropic/${name}`, import.meta.url), 'utf8');
const MESSAGE = JSON.parse(fixture('message.json'));
const TOOL_USE = JSON.parse(fixture('message-tool-use.json'));
const STREAM = fixture('stream.txt');
const TOOL_STREAM = fixture('stream-tool-use.txt');
const ERROR_STREAM = fixture('stream-error.txt');
const BAD_KEY = fixture('error-authentication.json');

type Json = Record<string, unknown>;

export interface ReceivedRequest {
  path: string;
  headers: IncomingMessage['headers'];
  body: Json;
}

/** Cache reads the `cached` model reports, on top of the counted input. */
export const FAKE_CACHED_TOKENS = 100;

const ERROR_TYPES: Record<number, string> = {
  400: 'invalid_request_error',
  401: 'authentication_error',
  403: 'permission_error',
  404: 'not_found_error',
  413: 'request_too_large',
  429: 'rate_limit_error',
  500: 'api_error',
  529: 'overloaded_error',
};

/** Anthropic's error body. */
export function anthropicErrorBody(type: string, message: string): string {
  return JSON.stringify({ type: 'error', error: { type, message } });
}

function textOfBlocks(content: unknown): string[] {
  if (typeof content === 'string') return [content];
  if (!Array.isArray(content)) return [];
  return (content as Json[]).flatMap((block) =>
    block?.type === 'text' ? [String(block.text)] : block?.type === 'tool_result' ? textOfBlocks(block.content) : [],
  );
}

/** Input tokens as this fake counts them: words across the system prompt and every text block. */
export function fakeInputTokens(body: Json): number {
  const messages = Array.isArray(body.messages) ? (body.messages as Json[]) : [];
  const text = [...textOfBlocks(body.system), ...messages.flatMap((message) => textOfBlocks(message?.content))];
  return text.join(' ').split(/\s+/).filter(Boolean).length;
}

const TOP_LEVEL = new Set([
  'model',
  'messages',
  'max_tokens',
  'system',
  'metadata',
  'stop_sequences',
  'stream',
  'temperature',
  'top_p',
  'top_k',
  'tools',
  'tool_choice',
  'thinking',
  'service_tier',
  'container',
  'mcp_servers',
  'context_management',
  'output_config',
  'cache_control',
  'inference_geo',
]);
const BLOCK_TYPES = new Set(['text', 'image', 'document', 'tool_use', 'tool_result', 'thinking', 'redacted_thinking']);
const isObject = (value: unknown): value is Json =>
  value !== null && typeof value === 'object' && !Array.isArray(value);
const blocksOf = (message: Json): Json[] => (Array.isArray(message.content) ? (message.content as Json[]) : []);

function checkBlock(block: unknown, at: string): string | undefined {
  if (!isObject(block) || !BLOCK_TYPES.has(String(block.type))) {
    return `${at}.type: Input tag '${String(isObject(block) ? block.type : block)}' found using 'type' does not match any of the expected tags`;
  }
  if (block.type === 'text' && (typeof block.text !== 'string' || block.text === '')) {
    return 'messages: text content blocks must be non-empty';
  }
  if (block.type === 'image') {
    const source = block.source as Json | undefined;
    const ok =
      (source?.type === 'base64' && typeof source.data === 'string' && typeof source.media_type === 'string') ||
      (source?.type === 'url' && typeof source.url === 'string');
    if (!ok) return `${at}.source: Input tag '${String(source?.type)}' does not match any of the expected tags`;
  }
  if (
    block.type === 'tool_use' &&
    (typeof block.id !== 'string' || typeof block.name !== 'string' || !isObject(block.input))
  ) {
    return `${at}.input: Input should be a valid dictionary`;
  }
  if (block.type === 'tool_result' && typeof block.tool_use_id !== 'string') return `${at}.tool_use_id: Field required`;
  return undefined;
}

function checkMessages(messages: unknown): string | undefined {
  if (!Array.isArray(messages)) return 'messages: Field required';
  if (messages.length === 0) return 'messages: at least one message is required';
  for (const [i, message] of (messages as Json[]).entries()) {
    if (!isObject(message)) return `messages.${i}: Input should be a valid dictionary`;
    if (message.role !== 'user' && message.role !== 'assistant') {
      return `messages.${i}.role: Input should be 'user' or 'assistant'`;
    }
    if (i > 0 && (messages[i - 1] as Json).role === message.role) {
      return `messages: roles must alternate between "user" and "assistant", but found multiple "${message.role}" roles in a row`;
    }
    if (typeof message.content === 'string') {
      if (message.content === '') return 'messages: text content blocks must be non-empty';
    } else if (!Array.isArray(message.content) || message.content.length === 0) {
      return `messages.${i}: all messages must have non-empty content except for the optional final assistant message`;
    }
    for (const [j, block] of blocksOf(message).entries()) {
      const problem = checkBlock(block, `messages.${i}.content.${j}`);
      if (problem) return problem;
    }
    // Every tool_use is answered by a tool_result in the very next (user) message, and back.
    const previous = i > 0 ? blocksOf(messages[i - 1] as Json) : [];
    const asked = new Set(previous.filter((block) => block.type === 'tool_use').map((block) => block.id));
    for (const [j, block] of blocksOf(message).entries()) {
      if (block.type === 'tool_result' && !asked.has(block.tool_use_id)) {
        return `messages.${i}.content.${j}: unexpected \`tool_use_id\` found in \`tool_result\` blocks: ${String(block.tool_use_id)}. Each \`tool_result\` block must have a corresponding \`tool_use\` block in the previous message.`;
      }
    }
    const answered = new Set(blocksOf(message).map((block) => block.tool_use_id));
    const missing = [...asked].filter((id) => !answered.has(id));
    if (missing.length > 0) {
      return `messages.${i - 1}: \`tool_use\` ids were found without \`tool_result\` blocks immediately after: ${missing.join(', ')}. Each \`tool_use\` block must have a corresponding \`tool_result\` block in the next message.`;
    }
  }
  return undefined;
}

function checkTools(tools: unknown, choice: unknown): string | undefined {
  if (tools !== undefined) {
    if (!Array.isArray(tools)) return 'tools: Input should be a valid list';
    for (const [i, tool] of (tools as Json[]).entries()) {
      if (!isObject(tool)) return `tools.${i}: Input should be a valid dictionary`;
      if (tool.type !== undefined && tool.type !== 'custom') continue; // a server tool
      for (const key of Object.keys(tool)) {
        if (!['name', 'description', 'input_schema', 'cache_control', 'type', 'strict'].includes(key)) {
          return `tools.${i}.custom.${key}: Extra inputs are not permitted`;
        }
      }
      if (typeof tool.name !== 'string') return `tools.${i}.custom.name: Field required`;
      if (!isObject(tool.input_schema) || tool.input_schema.type !== 'object') {
        return `tools.${i}.custom.input_schema.type: Input should be 'object'`;
      }
    }
  }
  if (choice !== undefined) {
    if (!isObject(choice) || !['auto', 'any', 'tool', 'none'].includes(String(choice.type))) {
      return "tool_choice: Input tag does not match any of the expected tags: 'auto', 'any', 'tool', 'none'";
    }
    if (choice.type === 'tool' && typeof choice.name !== 'string') return 'tool_choice.tool.name: Field required';
  }
  return undefined;
}

/** What Anthropic would say about a Messages request body, or undefined if it would take it. */
export function validateMessagesRequest(body: Json): string | undefined {
  for (const key of Object.keys(body)) {
    if (!TOP_LEVEL.has(key)) return `${key}: Extra inputs are not permitted`;
  }
  if (typeof body.model !== 'string') return 'model: Field required';
  if (body.max_tokens === undefined) return 'max_tokens: Field required';
  if (!Number.isInteger(body.max_tokens)) return 'max_tokens: Input should be a valid integer';
  if ((body.max_tokens as number) < 1) return 'max_tokens: Input should be greater than or equal to 1';
  const problem = checkMessages(body.messages);
  if (problem) return problem;
  const system = body.system;
  if (system !== undefined && typeof system !== 'string') {
    if (!Array.isArray(system) || system.some((block) => !isObject(block) || block.type !== 'text')) {
      return 'system: Input should be a valid string';
    }
  }
  for (const key of ['temperature', 'top_p'] as const) {
    const value = body[key];
    if (value !== undefined && (typeof value !== 'number' || value < 0 || value > 1)) {
      return `${key}: Input should be less than or equal to 1`;
    }
  }
  if (body.stop_sequences !== undefined) {
    if (!Array.isArray(body.stop_sequences) || body.stop_sequences.some((stop) => typeof stop !== 'string')) {
      return 'stop_sequences: Input should be a valid list';
    }
  }
  if (body.metadata !== undefined) {
    if (!isObject(body.metadata)) return 'metadata: Input should be a valid dictionary';
    for (const key of Object.keys(body.metadata)) {
      if (key !== 'user_id') return `metadata.${key}: Extra inputs are not permitted`;
    }
  }
  return checkTools(body.tools, body.tool_choice);
}

/** Whether the last message hands back tool results (so the next answer is text). */
function answersToolResult(body: Json): boolean {
  const last = (body.messages as Json[]).at(-1) as Json;
  return blocksOf(last).some((block) => block.type === 'tool_result');
}

/**
 * A provider that speaks Anthropic's Messages API, answering from recorded responses
 * (test/fixtures/anthropic). It checks the key — in `x-api-key`, or as `Authorization: Bearer`,
 * which is how `@anthropic-ai/sdk` 1.x sends it — (401 in Anthropic's shape otherwise), that an
 * `anthropic-version` header is present, and validates the body like the API does (400
 * invalid_request_error).
 * The model name picks a behaviour:
 * `fail-<status>` answers with that HTTP error, `slow-<ms>` waits before answering,
 * `tool-call` calls the request's first tool (or `get_weather`) — unless the last message
 * carries tool results, when it answers text — `stream-error` breaks its stream with an
 * `overloaded_error` event (529 when not streaming), `cached` reports
 * {@link FAKE_CACHED_TOKENS} cache reads, anything else answers text.
 * `input_tokens` is {@link fakeInputTokens}; output tokens never exceed `max_tokens`.
 * A `tg-scenario:<name>` marker in the prompt overrides the model name with a metering scenario
 * (scenarios/anthropic.ts).
 */
export class FakeAnthropic {
  readonly received: ReceivedRequest[] = [];
  #server: Server | undefined;
  /** The base URL, without `/v1`. */
  url = '';
  /** Delay between streamed events, in milliseconds. */
  chunkDelayMs = 0;
  /** The API key the fake accepts; anything else gets Anthropic's 401. */
  constructor(readonly apiKey: string) {}

  async start(): Promise<this> {
    this.#server = createServer((request, response) => {
      void this.#handle(request, response);
    });
    await new Promise<void>((resolve) => this.#server?.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
    return this;
  }

  async close(): Promise<void> {
    this.#server?.closeAllConnections();
    await new Promise((resolve) => this.#server?.close(resolve));
  }

  async #handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const requestId = `req_${randomBytes(12).toString('hex')}`;
    const json = (status: number, payload: string, headers: Record<string, string> = {}) => {
      response.writeHead(status, { 'content-type': 'application/json', 'request-id': requestId, ...headers });
      response.end(payload);
    };
    const error = (status: number, message: string, headers: Record<string, string> = {}) =>
      json(status, anthropicErrorBody(ERROR_TYPES[status] ?? 'api_error', message), headers);

    let body: Json;
    try {
      body = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as Json;
    } catch {
      return error(400, 'There was an issue with the format of your request: the body is not valid JSON');
    }
    this.received.push({ path: request.url ?? '', headers: request.headers, body });
    const key = request.headers['x-api-key'] ?? request.headers.authorization?.replace(/^Bearer /, '');
    if (key !== this.apiKey) return json(401, BAD_KEY);
    if (!request.headers['anthropic-version']) return error(400, 'anthropic-version: header is required');
    if (request.method !== 'POST' || request.url !== '/v1/messages') return error(404, 'Not found');
    if (!isObject(body)) return error(400, 'The request body must be a JSON object');
    const problem = validateMessagesRequest(body);
    if (problem) return error(400, problem);
    // A `tg-scenario:<name>` marker in the prompt picks a metering scenario (scenarios/scenario.ts).
    const scenario = takeScenario(body, response);
    if (scenario) return serveAnthropicScenario(scenario, body, response);

    const model = String(body.model);
    const failure = /^fail-(\d{3})$/.exec(model);
    if (failure) {
      const status = Number(failure[1]);
      const message = status === 529 ? 'Overloaded' : status === 429 ? 'Rate limited' : 'Internal server error';
      return error(status, message, status === 429 ? { 'retry-after': '7' } : {});
    }
    const slow = /^slow-(\d+)$/.exec(model);
    if (slow) await new Promise((resolve) => setTimeout(resolve, Number(slow[1])));
    if (model === 'stream-error' && body.stream !== true) return error(529, 'Overloaded');

    const toolCall = model === 'tool-call' && !answersToolResult(body);
    const tools = Array.isArray(body.tools) ? (body.tools as Json[]) : [];
    const toolName = String(tools[0]?.name ?? 'get_weather');
    const input = fakeInputTokens(body);
    const cached = model === 'cached' ? FAKE_CACHED_TOKENS : 0;
    const maxTokens = body.max_tokens as number;
    const usage = (output: number) => ({
      input_tokens: input,
      cache_creation_input_tokens: 0,
      cache_read_input_tokens: cached,
      output_tokens: Math.min(output, maxTokens),
    });

    if (body.stream !== true) {
      const answer = toolCall ? TOOL_USE : MESSAGE;
      const content = (answer.content as Json[]).map((block) =>
        block.type === 'tool_use' ? { ...block, name: toolName } : block,
      );
      const stopReason = answer.usage.output_tokens > maxTokens ? 'max_tokens' : answer.stop_reason;
      return json(
        200,
        JSON.stringify({
          ...answer,
          model,
          content,
          stop_reason: stopReason,
          usage: usage(answer.usage.output_tokens),
        }),
      );
    }

    response.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache',
      'request-id': requestId,
    });
    const transcript = toolCall ? TOOL_STREAM : model === 'stream-error' ? ERROR_STREAM : STREAM;
    for (const event of transcript.split('\n\n').filter((text) => text.trim() !== '')) {
      if (response.destroyed) return;
      response.write(`${this.#rewrite(event, model, toolName, usage)}\n\n`);
      if (this.chunkDelayMs > 0) await new Promise((resolve) => setTimeout(resolve, this.chunkDelayMs));
    }
    response.end();
  }

  /** A recorded event with this request's model, tool name and usage in it. */
  #rewrite(event: string, model: string, toolName: string, usage: (output: number) => Json): string {
    const [name, dataLine] = event.split('\n') as [string, string];
    const data = JSON.parse(dataLine.slice('data: '.length)) as Json;
    if (data.type === 'message_start') {
      const message = data.message as Json;
      return `${name}\ndata: ${JSON.stringify({ ...data, message: { ...message, model, usage: usage(1) } })}`;
    }
    const block = data.content_block as Json | undefined;
    if (data.type === 'content_block_start' && block?.type === 'tool_use') {
      return `${name}\ndata: ${JSON.stringify({ ...data, content_block: { ...block, name: toolName } })}`;
    }
    if (data.type === 'message_delta') {
      // As documented, message_delta carries the output count only.
      const output = Number((data.usage as Json | undefined)?.output_tokens ?? 0);
      const counted = usage(output).output_tokens as number;
      const delta = data.delta as Json;
      const stopReason = output > counted ? 'max_tokens' : delta.stop_reason;
      const next = { ...data, delta: { ...delta, stop_reason: stopReason }, usage: { output_tokens: counted } };
      return `${name}\ndata: ${JSON.stringify(next)}`;
    }
    return event;
  }
}
