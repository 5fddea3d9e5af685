import type { Usage } from '../../metering/cost.ts';
import type { HttpCall, TranslatedResponse } from '../adapter.ts';
import { parseAnswer } from '../shared/answer.ts';
import { unsupported } from '../shared/refusals.ts';
import type { ResolvedCredential } from '../types.ts';
import { geminiEndpoint, modelResource } from './endpoint.ts';
import type { UsageMetadata } from './wire.ts';

type Body = Record<string, unknown>;

/** The texts to embed: OpenAI takes a string or an array of them (token arrays cannot be sent). */
export function embeddingInputs(body: Body): string[] {
  const input = body.input;
  if (typeof input === 'string') return [input];
  if (Array.isArray(input) && input.every((item) => typeof item === 'string')) return input as string[];
  throw unsupported('gemini', 'Gemini embeds text only: "input" must be a string or an array of strings');
}

/** OpenAI embeddings body → one `batchEmbedContents` call, one request per input, in order. */
export async function embeddingsRequest(body: Body, credential: ResolvedCredential): Promise<HttpCall> {
  const model = String(body.model);
  const { url, headers } = geminiEndpoint(credential, model, 'batchEmbedContents');
  const dimensions = typeof body.dimensions === 'number' ? { outputDimensionality: body.dimensions } : {};
  const requests = embeddingInputs(body).map((text) => ({
    model: modelResource(model),
    content: { parts: [{ text }] },
    ...dimensions,
  }));
  return { url, headers, body: JSON.stringify({ requests }) };
}

/** A vector as OpenAI's `encoding_format: "base64"` has it: little-endian float32, base64. */
function base64Floats(values: number[]): string {
  const buffer = Buffer.alloc(values.length * 4);
  for (const [index, value] of values.entries()) buffer.writeFloatLE(value, index * 4);
  return buffer.toString('base64');
}

/**
 * Prompt tokens of an embeddings call. `batchEmbedContents` reports no usage today; where it does
 * (`usageMetadata.promptTokenCount`) that count is used. Otherwise the count is estimated as one
 * token per four characters of input — Google's own rule of thumb for Gemini tokens — so that an
 * embeddings call is never metered as free. Without the request there is nothing to estimate from.
 */
function embeddingUsage(metadata: UsageMetadata | undefined, request: Body | undefined): Usage | undefined {
  if (typeof metadata?.promptTokenCount === 'number') {
    return { promptTokens: metadata.promptTokenCount, completionTokens: 0, cachedTokens: 0 };
  }
  if (!request) return undefined;
  const characters = embeddingInputs(request).reduce((sum, text) => sum + text.length, 0);
  return { promptTokens: Math.ceil(characters / 4), completionTokens: 0, cachedTokens: 0 };
}

/**
 * A `batchEmbedContents` response → OpenAI's embeddings list. `request` is the OpenAI body the
 * call was made for: it decides the encoding (the official OpenAI SDKs ask for base64 unless told
 * otherwise, and cannot read plain arrays when they did) and gives the usage estimate.
 */
export function embeddingsResponse(payload: Uint8Array, model: string, request?: Body): TranslatedResponse {
  const response = parseAnswer<{ embeddings?: Array<{ values?: number[] }>; usageMetadata?: UsageMetadata }>(
    payload,
    'gemini',
  );
  const base64 = request?.encoding_format === 'base64';
  const data = (response.embeddings ?? []).map((embedding, index) => {
    const values = embedding.values ?? [];
    return { object: 'embedding', index, embedding: base64 ? base64Floats(values) : values };
  });
  const usage = embeddingUsage(response.usageMetadata, request);
  const tokens = usage?.promptTokens ?? 0;
  return {
    body: { object: 'list', data, model, usage: { prompt_tokens: tokens, total_tokens: tokens } },
    usage,
  };
}
