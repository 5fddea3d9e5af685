import { TollgateError } from '../errors.ts';
import type { GatewayContext } from './context.ts';
import type { Dispatched } from './dispatch.ts';
import type { Exchange } from './exchange.ts';
import type { Target } from './routing/model-registry.ts';
import { connectionFailure } from './upstream.ts';

/** JSON's whitespace: space, tab, line feed, carriage return. */
const isSpace = (byte: number | undefined) => byte === 0x20 || byte === 0x09 || byte === 0x0a || byte === 0x0d;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;

/**
 * Whether a body is one JSON object: `{` first, its braces, brackets and strings balanced,
 * and it closes at the last byte, whitespace aside. Every provider's non-streamed answer is
 * one; an HTML error page from a proxy, an empty body and a cut one are not. This is one pass
 * over the bytes, not a parse: an OpenAI-format answer is passed through unparsed (an
 * embeddings answer can be tens of megabytes), and the hot path should not build objects it
 * discards. What lies between the brackets is checked by whatever reads it.
 */
export function framedAsJsonObject(payload: Uint8Array): boolean {
  let start = 0;
  let end = payload.length - 1;
  while (start <= end && isSpace(payload[start])) start++;
  while (end > start && isSpace(payload[end])) end--;
  if (end <= start || payload[start] !== OPEN_BRACE || payload[end] !== CLOSE_BRACE) return false;
  const open: number[] = [];
  let inString = false;
  for (let index = start; index <= end; index++) {
    const byte = payload[index];
    if (inString) {
      if (byte === BACKSLASH) index++;
      else if (byte === QUOTE) inString = false;
    } else if (byte === QUOTE) inString = true;
    else if (byte === OPEN_BRACE || byte === OPEN_BRACKET) open.push(byte);
    else if (byte === CLOSE_BRACE || byte === CLOSE_BRACKET) {
      if (open.pop() !== (byte === CLOSE_BRACE ? OPEN_BRACE : OPEN_BRACKET)) return false;
      // The object that opened first closes last: nothing may follow it.
      if (open.length === 0) return index === end;
    }
  }
  return false;
}

/**
 * Stops reading an answer and closes its connection. undici reports the abort as an 'error'
 * event: without a listener, that would be an uncaught exception.
 */
function discard(response: Dispatched['response']): void {
  response.body.on('error', () => {});
  response.body.destroy();
}

export function notJson(target: Target, status: number, detail = 'a body that is not JSON'): TollgateError {
  return new TollgateError('TG_ERR_PROVIDER_ERROR', target.provider, status, detail);
}

/**
 * A non-streamed provider answer, read whole — but never more than `ctx.upstreamBodyLimit`
 * bytes, and never past the request's deadline — and checked to be a JSON object. Anything
 * else is a 502 `provider_error` (a 504 at the deadline), never a 200.
 */
export async function readAnswer(ctx: GatewayContext, exchange: Exchange, dispatched: Dispatched): Promise<Uint8Array> {
  const { response, target, timeoutMs } = dispatched;
  const limit = ctx.upstreamBodyLimit;
  const tooLarge = () =>
    new TollgateError(
      'TG_ERR_PROVIDER_ERROR',
      target.provider,
      response.statusCode,
      `a body over the ${limit}-byte limit`,
    );
  if (Number(response.headers['content-length']) > limit) {
    discard(response);
    throw tooLarge();
  }
  let late = false;
  const timer = setTimeout(
    () => {
      late = true;
      response.body.destroy(new Error('request deadline'));
    },
    Math.max(0, exchange.started + ctx.requestDeadlineMs - performance.now()),
  );
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of response.body) {
      size += (chunk as Buffer).length;
      if (size > limit) {
        discard(response);
        throw tooLarge();
      }
      chunks.push(chunk as Buffer);
    }
  } catch (error) {
    if (error instanceof TollgateError) throw error;
    if (late) throw new TollgateError('TG_ERR_DEADLINE_EXCEEDED', ctx.requestDeadlineMs);
    throw connectionFailure(error, target, timeoutMs);
  } finally {
    clearTimeout(timer);
  }
  if (late) throw new TollgateError('TG_ERR_DEADLINE_EXCEEDED', ctx.requestDeadlineMs);
  const payload = Buffer.concat(chunks, size);
  if (!framedAsJsonObject(payload)) throw notJson(target, response.statusCode);
  return new Uint8Array(payload.buffer, payload.byteOffset, payload.byteLength);
}

/**
 * A streamed answer that is plainly not a stream — an HTML error page from a proxy, a JSON
 * body from a server that ignored `stream: true` — is refused before the caller's stream
 * starts: after that its status could no longer say so. Bedrock's binary event stream has its
 * own type; an answer without a content type is given the benefit of the doubt.
 */
export function checkStreamAnswer({ response, target }: Dispatched): void {
  if (target.adapter.spec.format === 'bedrock') return;
  const type = String(response.headers['content-type'] ?? '').toLowerCase();
  if (type.startsWith('text/html') || type.startsWith('application/json') || type.startsWith('text/plain')) {
    discard(response);
    throw notJson(target, response.statusCode, 'a body that is not a stream of server-sent events');
  }
}

/** An adapter's reading of an answer; an answer it cannot read is the provider's failure. */
export function readWith<T>(target: Target, status: number, read: () => T): T {
  try {
    return read();
  } catch (error) {
    if (error instanceof TollgateError) throw error;
    throw notJson(target, status, 'a body Tollgate could not read');
  }
}
