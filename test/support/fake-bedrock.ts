import { createHash, randomUUID, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Sha256 } from '@aws-crypto/sha256-js';
import { EventStreamCodec } from '@smithy/eventstream-codec';
import { SignatureV4 } from '@smithy/signature-v4';
import { fromUtf8, toUtf8 } from '@smithy/util-utf8';
import { serveBedrockScenario } from './scenarios/bedrock.ts';
import { takeScenario } from './scenarios/scenario.ts';

const fixture = (name: string) =>
  JSON.parse(readFileSync(new URL(`../fixtures/bedrock/${name}`, import.meta.url), 'utf8'));
type Json = Record<string, any>;
interface StreamEvent {
  event: string;
  payload: Json;
}
const TEXT: Json = fixture('converse-text.json');
const TOOL_USE: Json = fixture('converse-tool-use.json');
const CACHED: Json = fixture('converse-cached.json');
const STREAM_TEXT: StreamEvent[] = fixture('converse-stream-text.json');
const STREAM_TOOL_USE: StreamEvent[] = fixture('converse-stream-tool-use.json');
const ERRORS: Record<string, { type: string; message: string }> = fixture('errors.json');

const codec = new EventStreamCodec(toUtf8, fromUtf8);

/** One event of a ConverseStream, as Bedrock frames it. */
export function encodeEvent(type: string, payload: unknown): Uint8Array {
  return codec.encode({
    headers: {
      ':event-type': { type: 'string', value: type },
      ':content-type': { type: 'string', value: 'application/json' },
      ':message-type': { type: 'string', value: 'event' },
    },
    body: fromUtf8(JSON.stringify(payload)),
  });
}

/** An exception in a ConverseStream, e.g. `throttlingException`, `modelStreamErrorException`. */
export function encodeException(type: string, message: string): Uint8Array {
  return codec.encode({
    headers: {
      ':exception-type': { type: 'string', value: type },
      ':content-type': { type: 'string', value: 'application/json' },
      ':message-type': { type: 'string', value: 'exception' },
    },
    body: fromUtf8(JSON.stringify({ message })),
  });
}

/** The recorded stream fixtures, for tests that decode them. */
export const streamFixtures = { text: STREAM_TEXT, toolUse: STREAM_TOOL_USE };

export interface FakeBedrockKeys {
  accessKeyId: string;
  secretAccessKey: string;
  /** When set, requests must carry this session token. */
  sessionToken?: string;
  /** When set, requests must be signed for this region. */
  region?: string;
}

export interface ReceivedRequest {
  method: string;
  /** The path as sent, model id still escaped. */
  path: string;
  modelId: string;
  operation: 'converse' | 'converse-stream' | undefined;
  headers: IncomingMessage['headers'];
  /** The parsed body, or `{}` when it was not JSON. */
  body: Json;
  /** Whether the SigV4 signature checked out. */
  signatureValid: boolean;
}

/** Prompt tokens as this fake counts them: words of every text the request holds. */
export function fakeInputTokens(body: Json): number {
  const texts: string[] = [];
  for (const block of body.system ?? []) if (typeof block?.text === 'string') texts.push(block.text);
  for (const message of body.messages ?? []) {
    for (const block of message?.content ?? []) {
      if (typeof block?.text === 'string') texts.push(block.text);
      for (const part of block?.toolResult?.content ?? []) if (typeof part?.text === 'string') texts.push(part.text);
    }
  }
  return texts.join(' ').split(/\s+/).filter(Boolean).length;
}

/**
 * A Bedrock Runtime that speaks the Converse wire format and checks every request's SigV4
 * signature the way AWS does: it recomputes the signature from the method, path, the signed
 * headers and the body it received, and answers 403 when they differ. The model id picks a
 * behaviour: `fail-<status>` answers with that error, `slow-<ms>` waits first, `tool-call`
 * answers with a tool use, `cached` reports prompt-cache tokens, `no-usage` streams without
 * the metadata event, `stream-exception` streams some text then a `throttlingException`;
 * anything else answers with text (test/fixtures/bedrock). A `tg-scenario:<name>` marker in the
 * prompt overrides the model id with a metering scenario (scenarios/bedrock.ts).
 */
export class FakeBedrock {
  readonly received: ReceivedRequest[] = [];
  #server: Server | undefined;
  /** The base URL to put in a credential's `baseUrl` setting. */
  url = '';
  /** Delay between streamed events, in milliseconds. */
  chunkDelayMs = 0;

  constructor(readonly keys: FakeBedrockKeys) {}

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
    const raw = Buffer.concat(chunks);
    const path = (request.url ?? '/').split('?')[0]!;
    const route = /^\/model\/([^/]+)\/(converse|converse-stream)$/.exec(path);
    let body: Json | undefined;
    try {
      const parsed = JSON.parse(raw.toString('utf8'));
      if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) body = parsed;
    } catch {}
    const refusal = await this.#checkSignature(request, raw);
    this.received.push({
      method: request.method ?? '',
      path,
      modelId: route ? safeDecode(route[1]!) : '',
      operation: route?.[2] as ReceivedRequest['operation'],
      headers: request.headers,
      body: body ?? {},
      signatureValid: refusal === undefined,
    });
    const fail = (status: number, type: string, message: string) => {
      response.writeHead(status, {
        'content-type': 'application/json',
        'x-amzn-requestid': randomUUID(),
        'x-amzn-errortype': `${type}:http://internal.amazon.com/coral/com.amazon.bedrock/`,
      });
      response.end(JSON.stringify({ message }));
    };
    if (refusal) return fail(403, refusal.type, refusal.message);
    if (!route || request.method !== 'POST') return fail(404, 'UnknownOperationException', 'Unknown operation');
    if (!body)
      return fail(400, 'SerializationException', 'Malformed input request, please reformat your input and try again.');
    const invalid = validateConverse(body);
    if (invalid) return fail(400, 'ValidationException', invalid);

    // A `tg-scenario:<name>` marker in the prompt picks a metering scenario (scenarios/scenario.ts).
    const scenario = takeScenario(body, response);
    if (scenario) {
      const framing = { event: encodeEvent, exception: encodeException };
      return serveBedrockScenario(scenario, body, route[2] === 'converse-stream', response, framing);
    }
    const modelId = safeDecode(route[1]!);
    const failure = /^fail-(\d{3})$/.exec(modelId);
    if (failure) {
      const status = Number(failure[1]);
      const error = ERRORS[String(status)] ?? ERRORS['500']!;
      return fail(status, error.type, error.message);
    }
    const slow = /^slow-(\d+)$/.exec(modelId);
    if (slow) await sleep(Number(slow[1]));

    const inputTokens = fakeInputTokens(body);
    const toolName: string | undefined = body.toolConfig?.tools?.[0]?.toolSpec?.name;
    if (route[2] === 'converse') {
      const answer = structuredClone(modelId === 'tool-call' ? TOOL_USE : modelId === 'cached' ? CACHED : TEXT);
      if (modelId === 'tool-call' && toolName) answer.output.message.content[1].toolUse.name = toolName;
      answer.usage.inputTokens = inputTokens;
      answer.usage.totalTokens = totalTokens(answer.usage);
      response.writeHead(200, { 'content-type': 'application/json', 'x-amzn-requestid': randomUUID() });
      return void response.end(JSON.stringify(answer));
    }

    let events = structuredClone(modelId === 'tool-call' ? STREAM_TOOL_USE : STREAM_TEXT);
    for (const { event, payload } of events) {
      if (event === 'contentBlockStart' && toolName) payload.start.toolUse.name = toolName;
      if (event === 'metadata') {
        payload.usage.inputTokens = inputTokens;
        if (modelId === 'cached')
          Object.assign(payload.usage, { cacheReadInputTokens: 1800, cacheWriteInputTokens: 248 });
        payload.usage.totalTokens = totalTokens(payload.usage);
      }
    }
    if (modelId === 'no-usage') events = events.filter(({ event }) => event !== 'metadata');
    response.writeHead(200, { 'content-type': 'application/vnd.amazon.eventstream', 'x-amzn-requestid': randomUUID() });
    const frames = events.map(({ event, payload }) => encodeEvent(event, payload));
    if (modelId === 'stream-exception') {
      frames.splice(3, frames.length, encodeException('throttlingException', ERRORS['429']!.message));
    }
    for (const [index, frame] of frames.entries()) {
      if (index > 0 && this.chunkDelayMs > 0) await sleep(this.chunkDelayMs);
      if (response.destroyed) return;
      response.write(frame);
    }
    response.end();
  }

  /** Why AWS would refuse this request's signature, or nothing when it holds. */
  async #checkSignature(
    request: IncomingMessage,
    body: Buffer,
  ): Promise<{ type: string; message: string } | undefined> {
    const refuse = (key: string, message?: string) => ({
      type: ERRORS[key]!.type,
      message: message ?? ERRORS[key]!.message,
    });
    const headers = request.headers;
    const auth =
      /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, ?SignedHeaders=([a-z0-9;-]+), ?Signature=([0-9a-f]{64})$/.exec(
        String(headers.authorization ?? ''),
      );
    const amzDate = String(headers['x-amz-date'] ?? '');
    if (!auth || !/^\d{8}T\d{6}Z$/.test(amzDate)) return refuse('missing-auth');
    const [, accessKeyId, day, region, service, signedList, signature] = auth as unknown as string[];
    if (accessKeyId !== this.keys.accessKeyId) return refuse('unknown-key');
    const sessionToken = headers['x-amz-security-token'] as string | undefined;
    if ((this.keys.sessionToken ?? undefined) !== sessionToken) return refuse('unknown-key');
    if (service !== 'bedrock') {
      return refuse('signature-mismatch', "Credential should be scoped to correct service: 'bedrock'.");
    }
    if (this.keys.region && region !== this.keys.region) {
      return refuse('signature-mismatch', `Credential should be scoped to a valid region, not '${region}'.`);
    }
    const signedNames = signedList!.split(';');
    if (!signedNames.includes('host')) return refuse('signature-mismatch', "'Host' must be a signed header.");
    const signingDate = new Date(
      `${amzDate.slice(0, 4)}-${amzDate.slice(4, 6)}-${amzDate.slice(6, 8)}T${amzDate.slice(9, 11)}:${amzDate.slice(11, 13)}:${amzDate.slice(13, 15)}Z`,
    );
    if (day !== amzDate.slice(0, 8)) return refuse('signature-mismatch');
    if (Math.abs(Date.now() - signingDate.getTime()) > 5 * 60_000) {
      return refuse('signature-mismatch', `Signature expired: ${amzDate} is now earlier than the allowed window.`);
    }
    // Rebuild what was signed from what arrived; the payload hash is recomputed from the body
    // received, so a body changed after signing no longer matches.
    const toSign: Record<string, string> = {};
    for (const name of signedNames) {
      const value = headers[name];
      if (value === undefined) return refuse('signature-mismatch');
      toSign[name] = Array.isArray(value) ? value.join(',') : value;
    }
    if (signedNames.includes('x-amz-content-sha256')) {
      toSign['x-amz-content-sha256'] = createHash('sha256').update(body).digest('hex');
    }
    const [path, query = ''] = (request.url ?? '/').split('?');
    const signer = new SignatureV4({
      service: service!,
      region: region!,
      credentials: {
        accessKeyId: this.keys.accessKeyId,
        secretAccessKey: this.keys.secretAccessKey,
        ...(sessionToken ? { sessionToken } : {}),
      },
      sha256: Sha256,
      applyChecksum: false,
    });
    const expected = await signer.sign(
      {
        method: request.method ?? 'POST',
        protocol: 'http:',
        hostname: '127.0.0.1',
        path: path!,
        query: Object.fromEntries(new URLSearchParams(query)),
        headers: toSign,
        body: new Uint8Array(body),
      },
      { signingDate, signableHeaders: new Set(signedNames) },
    );
    const recomputed = /Signature=([0-9a-f]{64})$/.exec(String(expected.headers.authorization))?.[1] ?? '';
    const matches =
      recomputed.length === signature!.length && timingSafeEqual(Buffer.from(recomputed), Buffer.from(signature!));
    return matches ? undefined : refuse('signature-mismatch');
  }
}

/**
 * Enough of Bedrock's request validation to catch a translation that Bedrock would refuse:
 * messages present, starting with the user, roles alternating, content never empty, text never
 * blank, tool blocks only with a toolConfig and tool results answering the previous turn's calls.
 */
export function validateConverse(body: Json): string | undefined {
  const messages = body.messages;
  if (!Array.isArray(messages) || messages.length === 0) {
    return "1 validation error detected: Value null at 'messages' failed to satisfy constraint: Member must not be null";
  }
  const usesTools = messages.some((m: Json) =>
    (Array.isArray(m?.content) ? m.content : []).some((b: Json) => b?.toolUse || b?.toolResult),
  );
  if (usesTools && !body.toolConfig) {
    return 'The toolConfig field must be defined when using toolUse and toolResult content blocks.';
  }
  for (const [i, message] of messages.entries()) {
    if (message?.role !== 'user' && message?.role !== 'assistant') {
      return `1 validation error detected: Value '${message?.role}' at 'messages.${i + 1}.member.role' failed to satisfy constraint: Member must satisfy enum value set: [user, assistant]`;
    }
    if (i === 0 && message.role !== 'user') {
      return 'A conversation must start with a user message. Try again with a conversation that starts with a user message.';
    }
    if (i > 0 && messages[i - 1].role === message.role) {
      return 'A conversation must alternate between user and assistant roles. Make sure the conversation alternates between user and assistant roles and try again.';
    }
    if (!Array.isArray(message.content) || message.content.length === 0) {
      return `The content field in the Message object at messages.${i} is empty. Add a ContentBlock object to the content field and try again.`;
    }
    for (const [j, block] of message.content.entries()) {
      const problem = blockProblem(block, message.role, i > 0 ? messages[i - 1] : undefined);
      if (problem) return `messages.${i}.content.${j}: ${problem}`;
    }
  }
  for (const [i, block] of (body.system ?? []).entries()) {
    if (typeof block?.text !== 'string' || block.text.trim() === '') return `system.${i}: the text field is blank.`;
  }
  const inference = body.inferenceConfig ?? {};
  for (const key of ['maxTokens', 'temperature', 'topP'] as const) {
    if (key in inference && typeof inference[key] !== 'number') return `inferenceConfig.${key} must be a number`;
  }
  if ('stopSequences' in inference && !inference.stopSequences.every((s: unknown) => typeof s === 'string')) {
    return 'inferenceConfig.stopSequences must be strings';
  }
  if (body.toolConfig) {
    const tools = body.toolConfig.tools;
    if (!Array.isArray(tools) || tools.length === 0) return 'toolConfig.tools must not be empty';
    for (const tool of tools) {
      if (typeof tool?.toolSpec?.name !== 'string' || !tool.toolSpec.inputSchema?.json) {
        return 'Every tool needs toolSpec.name and toolSpec.inputSchema.json';
      }
    }
    const choice = body.toolConfig.toolChoice;
    if (choice && !(choice.auto || choice.any || typeof choice.tool?.name === 'string')) {
      return 'toolConfig.toolChoice must be one of auto, any, tool';
    }
  }
  return undefined;
}

function blockProblem(block: Json, role: string, previous: Json | undefined): string | undefined {
  const kinds = Object.keys(block ?? {});
  if (kinds.length !== 1) return 'a ContentBlock must hold exactly one member';
  if ('text' in block) {
    return typeof block.text === 'string' && block.text.trim() !== '' ? undefined : 'the text field is blank.';
  }
  if ('image' in block) {
    const { format, source } = block.image ?? {};
    if (!['png', 'jpeg', 'gif', 'webp'].includes(format)) return `unsupported image format ${format}`;
    if (typeof source?.bytes !== 'string' || !/^[A-Za-z0-9+/]+=*$/.test(source.bytes)) {
      return 'image.source.bytes must be base64';
    }
    return undefined;
  }
  if ('toolUse' in block) {
    const { toolUseId, name, input } = block.toolUse ?? {};
    if (role !== 'assistant') return 'toolUse blocks belong to assistant messages';
    if (!toolUseId || !name || typeof input !== 'object' || input === null)
      return 'toolUse needs toolUseId, name, input';
    return undefined;
  }
  if ('toolResult' in block) {
    const { toolUseId, content } = block.toolResult ?? {};
    if (role !== 'user') return 'toolResult blocks belong to user messages';
    if (!Array.isArray(content)) return 'toolResult.content must be a list';
    const calls = (previous?.content ?? []).map((b: Json) => b?.toolUse?.toolUseId).filter(Boolean);
    if (!calls.includes(toolUseId)) return `toolResult ${toolUseId} answers no toolUse of the previous message`;
    return undefined;
  }
  return `unsupported content block ${kinds[0]}`;
}

function totalTokens(usage: Json): number {
  return (
    usage.inputTokens + usage.outputTokens + (usage.cacheReadInputTokens ?? 0) + (usage.cacheWriteInputTokens ?? 0)
  );
}

function safeDecode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
