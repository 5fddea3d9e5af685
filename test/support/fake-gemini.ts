import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { serveGeminiScenario } from './scenarios/gemini.ts';
import { takeScenario } from './scenarios/scenario.ts';

const fixture = (name: string) => readFileSync(new URL(`../fixtures/gemini/${name}`, import.meta.url), 'utf8');
const events = (transcript: string) => transcript.split('\n\n').filter((event) => event.trim() !== '');
const CHAT = JSON.parse(fixture('generate-content.json'));
const TOOL_CALL = JSON.parse(fixture('generate-content-function-call.json'));
const STREAM = events(fixture('stream-generate-content.txt'));
const TOOL_CALL_STREAM = events(fixture('stream-function-call.txt'));
const MAX_TOKENS_STREAM = events(fixture('stream-max-tokens.txt'));
const EMBEDDINGS = JSON.parse(fixture('batch-embed-contents.json'));
const KEY_INVALID = fixture('error-api-key-invalid.json');
const KEY_MISSING = fixture('error-api-key-missing.json');

type Json = Record<string, any>;

export interface ReceivedRequest {
  /** Path and query, e.g. `/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse`. */
  path: string;
  model: string;
  method: string;
  headers: IncomingMessage['headers'];
  body: Json;
}

/** Prompt tokens as this fake counts them: words across the text of every content and the system instruction. */
export function fakeGeminiPromptTokens(body: Json): number {
  const contents = [...(body.contents ?? []), ...(body.systemInstruction ? [body.systemInstruction] : [])];
  const text = contents
    .flatMap((content: Json) => content.parts ?? [])
    .map((part: Json) => (typeof part.text === 'string' ? part.text : ''))
    .join(' ');
  return text.split(/\s+/).filter(Boolean).length;
}

const STATUS_TEXT: Record<number, [string, string]> = {
  400: ['INVALID_ARGUMENT', 'Request contains an invalid argument.'],
  401: ['UNAUTHENTICATED', 'Request had invalid authentication credentials.'],
  403: ['PERMISSION_DENIED', 'The caller does not have permission'],
  404: ['NOT_FOUND', 'Requested entity was not found.'],
  429: ['RESOURCE_EXHAUSTED', 'Resource has been exhausted (e.g. check quota).'],
  500: [
    'INTERNAL',
    'An internal error has occurred. Please retry or report in https://developers.generativeai.google/guide/troubleshooting',
  ],
  503: ['UNAVAILABLE', 'The model is overloaded. Please try again later.'],
  504: ['DEADLINE_EXCEEDED', 'Deadline expired before operation could complete.'],
};

function googleError(code: number, message?: string, details?: Json[]): Json {
  const [status, text] = STATUS_TEXT[code] ?? ['UNKNOWN', 'Unknown error.'];
  return { error: { code, message: message ?? text, status, ...(details ? { details } : {}) } };
}

/** Thrown by the request checks: answered as Google's 400. */
class Invalid extends Error {}

const REQUEST_FIELDS = new Set([
  'contents',
  'systemInstruction',
  'system_instruction',
  'tools',
  'toolConfig',
  'tool_config',
  'generationConfig',
  'generation_config',
  'safetySettings',
  'safety_settings',
  'cachedContent',
  'cached_content',
]);
const GENERATION_FIELDS = new Set([
  'temperature',
  'topP',
  'topK',
  'maxOutputTokens',
  'stopSequences',
  'candidateCount',
  'presencePenalty',
  'frequencyPenalty',
  'seed',
  'responseMimeType',
  'responseSchema',
  'responseJsonSchema',
  'thinkingConfig',
  'responseLogprobs',
  'logprobs',
]);
const PART_DATA = ['text', 'inlineData', 'fileData', 'functionCall', 'functionResponse', 'executableCode'];

const isObject = (value: unknown): value is Json => !!value && typeof value === 'object' && !Array.isArray(value);

/** The checks the real API makes of a `GenerateContentRequest`, with its wording. */
function checkGenerateContent(body: Json, model: string): void {
  for (const key of Object.keys(body)) {
    if (!REQUEST_FIELDS.has(key))
      throw new Invalid(`Invalid JSON payload received. Unknown name "${key}": Cannot find field.`);
  }
  for (const key of Object.keys(body.generationConfig ?? {})) {
    if (!GENERATION_FIELDS.has(key)) {
      throw new Invalid(
        `Invalid JSON payload received. Unknown name "${key}" at 'generation_config': Cannot find field.`,
      );
    }
  }
  const contents = body.contents;
  if (!Array.isArray(contents) || contents.length === 0) {
    throw new Invalid('* GenerateContentRequest.contents: contents is not specified\n');
  }
  contents.forEach((content: Json, at: number) => {
    if (content.role !== undefined && content.role !== 'user' && content.role !== 'model') {
      throw new Invalid('Please use a valid role: user, model.');
    }
    if (!Array.isArray(content.parts) || content.parts.length === 0) {
      throw new Invalid(`* GenerateContentRequest.contents[${at}].parts: contents.parts must not be empty.\n`);
    }
    content.parts.forEach((part: Json, index: number) => {
      const fields = PART_DATA.filter((field) => part[field] !== undefined);
      if (fields.length !== 1) {
        throw new Invalid(
          `* GenerateContentRequest.contents[${at}].parts[${index}].data: required oneof field 'data' must have one initialized field\n`,
        );
      }
      if (part.functionResponse && !isObject(part.functionResponse.response)) {
        throw new Invalid(
          `Invalid value at 'contents[${at}].parts[${index}].function_response.response' (type.googleapis.com/google.protobuf.Struct)`,
        );
      }
      if (
        part.inlineData &&
        (typeof part.inlineData.mimeType !== 'string' || typeof part.inlineData.data !== 'string')
      ) {
        throw new Invalid(
          `* GenerateContentRequest.contents[${at}].parts[${index}].inline_data: mime_type and data are required\n`,
        );
      }
    });
    // Gemini 3 refuses a history whose function calls lost their thought signatures.
    const first = content.parts.find((part: Json) => part.functionCall);
    if (model.includes('gemini-3') && content.role === 'model' && first && !first.thoughtSignature) {
      throw new Invalid(
        `Function call is missing a thought_signature in functionCall parts. This is required for tools to work correctly, and missing thought_signature may lead to degraded model performance. Additional data, function call \`default_api:${first.functionCall.name}\` , position ${at + 1}. Please refer to https://ai.google.dev/gemini-api/docs/thought-signatures for more details.`,
      );
    }
  });
  for (const tool of body.tools ?? []) {
    for (const declaration of tool.functionDeclarations ?? []) {
      if (declaration.parameters !== undefined && declaration.parametersJsonSchema !== undefined) {
        throw new Invalid('parameters and parameters_json_schema are mutually exclusive');
      }
    }
  }
}

function declaredFunctions(body: Json): string[] {
  return (body.tools ?? []).flatMap((tool: Json) => (tool.functionDeclarations ?? []).map((d: Json) => d.name));
}

/** True once the conversation carries a tool's result: the model then answers in text. */
function answersToolResult(body: Json): boolean {
  const last = (body.contents as Json[]).at(-1);
  return (last?.parts ?? []).some((part: Json) => part.functionResponse);
}

/** A recorded response adjusted to this request: the model asked for, the fake's prompt count, the functions declared. */
function adjust(response: Json, model: string, promptTokens: number, body: Json): Json {
  const copy = structuredClone(response);
  copy.modelVersion = model;
  const includeThoughts = body.generationConfig?.thinkingConfig?.includeThoughts === true;
  const declared = declaredFunctions(body);
  for (const candidate of copy.candidates ?? []) {
    const parts: Json[] = candidate.content?.parts ?? [];
    if (!includeThoughts && candidate.content) candidate.content.parts = parts.filter((part) => part.thought !== true);
    for (const part of candidate.content?.parts ?? []) {
      if (part.functionCall && declared.length > 0 && !declared.includes(part.functionCall.name)) {
        part.functionCall.name = declared[0];
      }
    }
  }
  const usage = copy.usageMetadata;
  if (usage) {
    usage.promptTokenCount = promptTokens;
    usage.totalTokenCount = promptTokens + (usage.candidatesTokenCount ?? 0) + (usage.thoughtsTokenCount ?? 0);
    if (usage.promptTokensDetails) usage.promptTokensDetails = [{ modality: 'TEXT', tokenCount: promptTokens }];
  }
  return copy;
}

/**
 * A provider that speaks the Generative Language API (`v1beta`), answering from recorded
 * responses (test/fixtures/gemini). It checks what the real API checks: the key in
 * `x-goog-api-key` (a missing key is Google's 403, a wrong one its **400** `API_KEY_INVALID`),
 * unknown fields, `contents` present with roles `user`/`model` only and non-empty parts, one data
 * field per part, object `functionResponse.response`, and — for model names containing
 * `gemini-3` — thought signatures on function calls in the history.
 *
 * The model name picks a behaviour: `fail-<status>` answers with that error in Google's shape,
 * `slow-<ms>` waits before answering, a name containing `tool-call` calls the first declared
 * function (then answers in text once the request carries the function's result), a name
 * containing `max-tokens` stops on MAX_TOKENS, anything else answers the recorded text. Streams
 * (`:streamGenerateContent?alt=sse`) replay the recorded transcripts with `chunkDelayMs` between
 * events, separated by CRLF blank lines as Google's front end sends them. A `tg-scenario:<name>`
 * marker in the prompt overrides the model name with a metering scenario (scenarios/gemini.ts).
 */
export class FakeGemini {
  readonly received: ReceivedRequest[] = [];
  #server: Server | undefined;
  /** Base URL, ending in `/v1beta`: what a credential's `baseUrl` setting takes. */
  url = '';
  /** Delay between streamed events, in milliseconds. */
  chunkDelayMs = 0;

  constructor(readonly apiKey: string) {}

  async start(): Promise<this> {
    this.#server = createServer((request, response) => {
      void this.#handle(request, response).catch(() => response.destroy());
    });
    await new Promise<void>((resolve) => this.#server?.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}/v1beta`;
    return this;
  }

  async close(): Promise<void> {
    this.#server?.closeAllConnections();
    await new Promise((resolve) => this.#server?.close(resolve));
  }

  async #handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const json = (status: number, payload: unknown) => {
      response.writeHead(status, { 'content-type': 'application/json; charset=UTF-8' });
      response.end(typeof payload === 'string' ? payload : JSON.stringify(payload, null, 2));
    };
    const url = new URL(request.url ?? '/', 'http://fake');
    const route = /^\/v1beta\/models\/([^/:]+):(generateContent|streamGenerateContent|batchEmbedContents)$/.exec(
      url.pathname,
    );
    let body: Json = {};
    try {
      body = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}');
    } catch {
      return json(400, googleError(400, 'Invalid JSON payload received. Unexpected token.'));
    }
    const model = decodeURIComponent(route?.[1] ?? '');
    const method = route?.[2] ?? '';
    this.received.push({ path: `${url.pathname}${url.search}`, model, method, headers: request.headers, body });

    const key = request.headers['x-goog-api-key'] ?? url.searchParams.get('key');
    if (!key) return json(403, KEY_MISSING);
    if (key !== this.apiKey) return json(400, KEY_INVALID);
    if (request.method !== 'POST' || !route) return json(404, googleError(404, 'Method not found.'));

    const failure = /^fail-(\d{3})$/.exec(model);
    if (failure) {
      const status = Number(failure[1]);
      const details =
        status === 429 ? [{ '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: '7s' }] : undefined;
      const message =
        status === 404
          ? `models/${model} is not found for API version v1beta, or is not supported for ${method}. Call ListModels to see the list of available models and their supported methods.`
          : undefined;
      return json(status, googleError(status, message, details));
    }
    const slow = /^slow-(\d+)$/.exec(model);
    if (slow) await new Promise((resolve) => setTimeout(resolve, Number(slow[1])));

    if (method === 'batchEmbedContents') return json(...this.#embed(body, model));
    try {
      checkGenerateContent(body, model);
    } catch (error) {
      if (error instanceof Invalid) return json(400, googleError(400, error.message));
      throw error;
    }
    // A `tg-scenario:<name>` marker in the prompt picks a metering scenario (scenarios/scenario.ts).
    const scenario = takeScenario(body, response);
    if (scenario) {
      if (method === 'streamGenerateContent' && url.searchParams.get('alt') !== 'sse') {
        return json(400, googleError(400, 'This fake streams server-sent events only: add ?alt=sse'));
      }
      return serveGeminiScenario(scenario, body, model, method === 'streamGenerateContent', response);
    }
    const promptTokens = fakeGeminiPromptTokens(body);
    const callsTool = model.includes('tool-call') && !answersToolResult(body);
    if (method === 'generateContent') {
      let answer = callsTool ? TOOL_CALL : CHAT;
      if (model.includes('max-tokens')) {
        answer = structuredClone(CHAT);
        answer.candidates[0].finishReason = 'MAX_TOKENS';
      }
      return json(200, adjust(answer, model, promptTokens, body));
    }
    if (url.searchParams.get('alt') !== 'sse') {
      return json(400, googleError(400, 'This fake streams server-sent events only: add ?alt=sse'));
    }
    const transcript = callsTool ? TOOL_CALL_STREAM : model.includes('max-tokens') ? MAX_TOKENS_STREAM : STREAM;
    response.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    for (const event of transcript) {
      const data = adjust(JSON.parse(event.slice('data: '.length)), model, promptTokens, body);
      response.write(`data: ${JSON.stringify(data)}\r\n\r\n`);
      if (this.chunkDelayMs > 0) await new Promise((resolve) => setTimeout(resolve, this.chunkDelayMs));
    }
    response.end();
  }

  /** `batchEmbedContents`: the status and body to answer with. */
  #embed(body: Json, model: string): [number, unknown] {
    const requests = body.requests;
    if (!Array.isArray(requests) || requests.length === 0) {
      return [400, googleError(400, '* BatchEmbedContentsRequest.requests: requests is not specified\n')];
    }
    for (const [at, item] of requests.entries()) {
      const field = `* BatchEmbedContentsRequest.requests[${at}]`;
      if (item.model !== `models/${model}`) {
        return [400, googleError(400, `${field}.model: model in the request must match the model in the path\n`)];
      }
      if (!Array.isArray(item.content?.parts) || item.content.parts.length === 0) {
        return [400, googleError(400, `${field}.content.parts: contents.parts must not be empty.\n`)];
      }
    }
    const recorded: number[] = EMBEDDINGS.embeddings[0].values;
    const embeddings = requests.map((item: Json) => {
      const size = typeof item.outputDimensionality === 'number' ? item.outputDimensionality : recorded.length;
      return { values: Array.from({ length: size }, (_, index) => recorded[index % recorded.length]) };
    });
    return [200, { embeddings }];
  }
}
