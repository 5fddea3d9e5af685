import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { answerResponses } from './fake-openai-responses.ts';
import { serveOpenAIScenario } from './scenarios/openai.ts';
import { serveResponsesScenario } from './scenarios/openai-responses.ts';
import { takeScenario } from './scenarios/scenario.ts';

const fixture = (name: string) => new URL(`../fixtures/openai/${name}`, import.meta.url);
const CHAT = JSON.parse(readFileSync(fixture('chat-completion.json'), 'utf8'));
const STREAM = readFileSync(fixture('chat-completion-stream.txt'), 'utf8');
const EMBEDDINGS = JSON.parse(readFileSync(fixture('embeddings.json'), 'utf8'));
const BAD_KEY = readFileSync(fixture('error-invalid-api-key.json'), 'utf8');

export interface ReceivedRequest {
  path: string;
  headers: IncomingMessage['headers'];
  body: Record<string, unknown>;
}

/** Prompt tokens as this fake counts them: words across all message contents. */
export function fakePromptTokens(body: Record<string, unknown>): number {
  const messages = (body.messages ?? []) as Array<{ content?: unknown }>;
  const text = messages.map((message) => (typeof message.content === 'string' ? message.content : '')).join(' ');
  return text.split(/\s+/).filter(Boolean).length;
}

/**
 * A provider that speaks OpenAI's wire format, answering from recorded responses
 * (test/fixtures/openai). The upstream model name picks a behaviour:
 * `fail-<status>` answers with that HTTP error, `slow-<ms>` waits before answering,
 * `no-usage` streams without the usage event, `flood-<n>` streams n events of ~1 KB as fast as
 * it can, anything else answers normally. `POST /v1/responses` answers in the Responses API's
 * format (fake-openai-responses.ts). A `tg-scenario:<name>` marker in the prompt overrides the
 * model name with a metering scenario (scenarios/openai.ts, scenarios/openai-responses.ts).
 */
export class FakeOpenAI {
  readonly received: ReceivedRequest[] = [];
  #server: Server | undefined;
  url = '';
  /** Delay between streamed events, in milliseconds. */
  chunkDelayMs = 0;
  /** The API key the fake accepts; anything else gets OpenAI's 401. */
  constructor(readonly apiKey: string) {}

  async start(): Promise<this> {
    this.#server = createServer((request, response) => {
      void this.#handle(request, response);
    });
    await new Promise<void>((resolve) => this.#server?.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}/v1`;
    return this;
  }

  async close(): Promise<void> {
    this.#server?.closeAllConnections();
    await new Promise((resolve) => this.#server?.close(resolve));
  }

  async #handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const body = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as Record<string, unknown>;
    this.received.push({ path: request.url ?? '', headers: request.headers, body });
    const json = (status: number, payload: unknown, headers: Record<string, string> = {}) => {
      response.writeHead(status, { 'content-type': 'application/json', ...headers });
      response.end(typeof payload === 'string' ? payload : JSON.stringify(payload));
    };
    if (request.headers.authorization !== `Bearer ${this.apiKey}`) return json(401, BAD_KEY);
    // A `tg-scenario:<name>` marker in the prompt picks a metering scenario (scenarios/scenario.ts).
    const scenario = ['/v1/chat/completions', '/v1/responses'].includes(request.url ?? '')
      ? takeScenario(body, response)
      : undefined;
    if (scenario && request.url === '/v1/responses') return serveResponsesScenario(scenario, body, response);
    if (scenario) return serveOpenAIScenario(scenario, body, response);
    const model = String(body.model ?? '');
    const failure = /^fail-(\d{3})$/.exec(model);
    if (failure) {
      const status = Number(failure[1]);
      const message =
        status === 400 ? "Invalid value for 'temperature': must be between 0 and 2." : 'The server had an error';
      return json(
        status,
        { error: { message, type: 'invalid_request_error', param: null, code: null } },
        status === 429 ? { 'retry-after': '7' } : {},
      );
    }
    const slow = /^slow-(\d+)$/.exec(model);
    if (slow) await new Promise((resolve) => setTimeout(resolve, Number(slow[1])));

    if (request.url === '/v1/embeddings') {
      const inputs = Array.isArray(body.input) ? body.input : [body.input];
      const tokens = inputs.map(String).join(' ').split(/\s+/).filter(Boolean).length;
      return json(200, {
        ...EMBEDDINGS,
        model,
        data: inputs.map((_, index) => ({ ...EMBEDDINGS.data[0], index })),
        usage: { prompt_tokens: tokens, total_tokens: tokens },
      });
    }
    if (request.url === '/v1/responses') return answerResponses(body, response, this.chunkDelayMs);
    if (request.url !== '/v1/chat/completions') return json(404, { error: { message: 'Not found' } });

    const promptTokens = fakePromptTokens(body);
    if (body.stream !== true) {
      // Like a real model, never more output than max_tokens (or max_completion_tokens) allows.
      const cap = Number(body.max_completion_tokens ?? body.max_tokens ?? Number.POSITIVE_INFINITY);
      const completionTokens = Math.min(CHAT.usage.completion_tokens, cap);
      const usage = {
        ...CHAT.usage,
        prompt_tokens: promptTokens,
        completion_tokens: completionTokens,
        total_tokens: promptTokens + completionTokens,
      };
      return json(200, { ...CHAT, model, usage });
    }
    response.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    const flood = /^flood-(\d+)$/.exec(model);
    if (flood) {
      // A long answer, sent as fast as the connection takes it: `flood-<n>` is n events of ~1 KB.
      const event = `data: ${JSON.stringify({ id: 'chatcmpl-flood', object: 'chat.completion.chunk', created: 0, model, choices: [{ index: 0, delta: { content: 'x'.repeat(1000) }, finish_reason: null }] })}\n\n`;
      for (let i = 0; i < Number(flood[1]) && !response.destroyed; i++) {
        if (!response.write(event)) await new Promise((resolve) => response.once('drain', resolve));
      }
      response.end('data: [DONE]\n\n');
      return;
    }
    const includeUsage = (body.stream_options as { include_usage?: boolean } | undefined)?.include_usage === true;
    for (const event of STREAM.split('\n\n').filter((text) => text.trim() !== '')) {
      let text = event;
      if (text.includes('"choices":[]')) {
        if (!includeUsage || model === 'no-usage') continue;
        text = text
          .replace('"prompt_tokens":9', `"prompt_tokens":${promptTokens}`)
          .replace('"total_tokens":11', `"total_tokens":${promptTokens + 2}`);
      } else if (!includeUsage) {
        text = text.replace(',"usage":null', '');
      }
      response.write(`${text.replace('gpt-4o-mini-2024-07-18', model)}\n\n`);
      if (this.chunkDelayMs > 0) await new Promise((resolve) => setTimeout(resolve, this.chunkDelayMs));
    }
    response.end();
  }
}
