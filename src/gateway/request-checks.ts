import { TollgateError } from '../errors.ts';

type Json = Record<string, unknown>;

/**
 * The door's checks on what a caller sends that Tollgate itself uses: the numbers that size a
 * spend reservation or a rate-limit count, and the strings that end up in a usage record.
 * JSON lets a caller write `-1e999` (−Infinity once parsed), `0.5` tokens or a NUL character;
 * each is refused here with a 400 naming the field, before policy sees it. Everything else in
 * a body is the provider's to judge.
 */

/** More output than any model offers, and small enough that a reservation stays exact. */
export const MAX_OUTPUT_TOKENS = 1_000_000;
/** OpenAI's own ceiling for `n`. */
const MAX_CHOICES = 128;
/** Longest model name a caller may send; published names are far shorter. */
export const MAX_MODEL_NAME = 256;
/** Longest end-user id (`user`, `metadata.user_id`) or metadata value. */
const MAX_TAG = 512;

interface Count {
  min: number;
  max: number;
}

const OUTPUT = { min: 1, max: MAX_OUTPUT_TOKENS };

/** Whole-number fields of each door, with their ranges; `null` means "not set" (OpenAI's SDKs send it). */
const OPENAI_CHAT_COUNTS: Record<string, Count> = {
  max_tokens: OUTPUT,
  max_completion_tokens: OUTPUT,
  max_output_tokens: OUTPUT,
  n: { min: 1, max: MAX_CHOICES },
  top_logprobs: { min: 0, max: 20 },
  seed: { min: Number.MIN_SAFE_INTEGER, max: Number.MAX_SAFE_INTEGER },
};
const OPENAI_EMBEDDINGS_COUNTS: Record<string, Count> = { dimensions: { min: 1, max: 65_536 } };
const ANTHROPIC_COUNTS: Record<string, Count> = { max_tokens: OUTPUT, top_k: { min: 0, max: 1_000_000 } };

/** A high surrogate not followed by a low one, or a low one not preceded by a high one. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

const invalid = (detail: string) => new TollgateError('TG_ERR_INVALID_REQUEST', detail);

function checkCounts(body: Json, counts: Record<string, Count>): void {
  for (const [field, { min, max }] of Object.entries(counts)) {
    const value = body[field];
    if (value === undefined || value === null) continue;
    if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
      throw invalid(`"${field}" must be a whole number from ${min} to ${max}`);
    }
  }
}

/**
 * Every other top-level number must at least be finite: `1e999` would reach the provider as
 * `null` (JSON has no Infinity), silently changing the request.
 */
function checkFinite(body: Json): void {
  for (const field in body) {
    const value = body[field];
    if (typeof value === 'number' && !Number.isFinite(value)) throw invalid(`"${field}" must be a finite number`);
  }
}

/**
 * A string PostgreSQL can store and a person can read: no NUL character (text columns refuse
 * it) and no unpaired UTF-16 surrogate (not encodable as UTF-8), at most `max` characters.
 */
export function checkText(value: string, field: string, max: number): void {
  if (value.length > max) throw invalid(`"${field}" must be at most ${max} characters long`);
  if (value.includes('\u0000') || LONE_SURROGATE.test(value)) {
    throw invalid(`"${field}" must not contain NUL characters or unpaired UTF-16 surrogates`);
  }
}

function checkOptionalText(value: unknown, field: string, max: number): void {
  if (value === undefined || value === null) return;
  if (typeof value !== 'string') throw invalid(`"${field}" must be a string`);
  checkText(value, field, max);
}

/** The model a caller asks for: recorded in usage even when no such model exists. */
export function checkModelName(value: unknown): string {
  if (typeof value !== 'string' || value === '') throw invalid('"model" is required and must be a string');
  checkText(value, 'model', MAX_MODEL_NAME);
  return value;
}

/** OpenAI's `metadata`: string keys and values, kept short. */
function checkMetadata(value: unknown, field: string): void {
  if (value === undefined || value === null) return;
  if (typeof value !== 'object' || Array.isArray(value)) throw invalid(`"${field}" must be an object`);
  for (const [name, item] of Object.entries(value)) {
    checkText(name, `${field} key`, MAX_TAG);
    if (typeof item === 'string') checkText(item, `${field}.${name}`, MAX_TAG);
  }
}

/** Deeper than any real request (tool schemas included), shallow enough to re-serialize safely. */
export const MAX_NESTING = 128;

/**
 * JSON.parse takes any depth, but JSON.stringify (every forwarded request) and every other
 * recursive walk run out of stack on a few thousand levels. Walked without recursion, and
 * only into arrays and objects.
 */
export function checkNesting(body: unknown): void {
  const pending: Array<[unknown, number]> = [[body, 1]];
  for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
    const [node, depth] = next;
    if (depth > MAX_NESTING) throw invalid(`the body is nested more than ${MAX_NESTING} levels deep`);
    const children = Array.isArray(node) ? node : Object.values(node as Json);
    for (const child of children) if (child !== null && typeof child === 'object') pending.push([child, depth + 1]);
  }
}

/** `POST /v1/chat/completions`. */
export function checkChatRequest(body: Json): void {
  checkNesting(body);
  checkCounts(body, OPENAI_CHAT_COUNTS);
  checkFinite(body);
  checkOptionalText(body.user, 'user', MAX_TAG);
  checkOptionalText(body.safety_identifier, 'safety_identifier', MAX_TAG);
  checkMetadata(body.metadata, 'metadata');
}

/** `POST /v1/embeddings`. */
export function checkEmbeddingsRequest(body: Json): void {
  checkNesting(body);
  checkCounts(body, OPENAI_EMBEDDINGS_COUNTS);
  checkFinite(body);
  checkOptionalText(body.user, 'user', MAX_TAG);
}

/** `POST /v1/messages`: `max_tokens` is required there. */
export function checkMessagesRequest(body: Json): void {
  checkNesting(body);
  if (body.max_tokens === undefined || body.max_tokens === null) throw invalid('"max_tokens" is required');
  checkCounts(body, ANTHROPIC_COUNTS);
  checkFinite(body);
  if (body.metadata !== undefined && body.metadata !== null) {
    if (typeof body.metadata !== 'object' || Array.isArray(body.metadata))
      throw invalid('"metadata" must be an object');
    checkOptionalText((body.metadata as Json).user_id, 'metadata.user_id', MAX_TAG);
  }
}
