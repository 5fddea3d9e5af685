import { type Usage, usageFromOpenAI } from '../../metering/cost.ts';
import { eventData, SseSplitter } from '../../sse.ts';
import type { ChunkDecoder, HttpCall, OpenAIObject, ProviderAdapter } from '../adapter.ts';
import { parseAnswer } from '../shared/answer.ts';
import { errorBodyMessage } from '../shared/error-body.ts';
import type { ProviderSpec, ResolvedCredential } from '../types.ts';

/**
 * Where an OpenAI-format provider takes a call of this kind, with which headers, and — where the
 * endpoint decides it (Azure's v1 API: the deployment) — the model the body must name.
 */
export type OpenAIEndpoint = (
  credential: ResolvedCredential,
  kind: 'chat' | 'embeddings' | 'responses',
  upstreamModel: string,
) => Promise<{ url: string; headers: Record<string, string>; model?: string }>;

const PATHS = { chat: '/chat/completions', embeddings: '/embeddings', responses: '/responses' } as const;

/** The usual OpenAI endpoint: `{baseUrl}/chat/completions` with a bearer key. */
export function baseUrlEndpoint(defaultBaseUrl: string): OpenAIEndpoint {
  return async (credential, kind) => {
    const base = (credential.settings.baseUrl || defaultBaseUrl).replace(/\/+$/, '');
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (credential.secrets.apiKey) headers.authorization = `Bearer ${credential.secrets.apiKey}`;
    if (credential.settings.organization) headers['openai-organization'] = credential.settings.organization;
    return { url: `${base}${PATHS[kind]}`, headers };
  };
}

/** An `error` event in an OpenAI-format stream: the provider failed after the stream began. */
export class OpenAIStreamError extends Error {
  override readonly name = 'OpenAIStreamError';
}

/** OpenAI's stream, read into chunk objects (for front doors that need to translate it). */
class OpenAIChunkDecoder implements ChunkDecoder {
  readonly #splitter = new SseSplitter();
  usage: Usage | undefined;

  push(bytes: Uint8Array): OpenAIObject[] {
    return this.#read(this.#splitter.push(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)));
  }

  end(): OpenAIObject[] {
    const rest = this.#splitter.rest();
    return rest.trim() === '' ? [] : this.#read([rest]);
  }

  #read(events: string[]): OpenAIObject[] {
    const chunks: OpenAIObject[] = [];
    for (const event of events) {
      const data = eventData(event) as OpenAIObject | undefined;
      if (!data) continue;
      if (data.error)
        throw new OpenAIStreamError(String((data.error as { message?: unknown }).message ?? 'stream error'));
      const usage = usageFromOpenAI(data.usage as never);
      if (usage) this.usage = usage;
      chunks.push(data);
    }
    return chunks;
  }
}

/**
 * An adapter for providers that speak OpenAI's format (OpenAI, Azure, Mistral, vLLM, …).
 * Behind the OpenAI front door the gateway passes their bytes through without this; the
 * adapter serves the other front doors, which need the answer as objects.
 */
export function openaiFormatAdapter(
  spec: ProviderSpec,
  endpoint: OpenAIEndpoint,
): ProviderAdapter & {
  endpoint: OpenAIEndpoint;
} {
  return {
    spec,
    endpoint,
    async chatRequest(body, credential, stream): Promise<HttpCall> {
      const { url, headers } = await endpoint(credential, 'chat', body.model);
      const options = (body.stream_options ?? {}) as Record<string, unknown>;
      const sent = stream ? { ...body, stream: true, stream_options: { ...options, include_usage: true } } : body;
      return { url, headers, body: JSON.stringify(sent) };
    },
    chatResponse(payload) {
      const body = parseAnswer(payload, spec.id);
      return { body, usage: usageFromOpenAI(body.usage as never) };
    },
    chatStream: () => new OpenAIChunkDecoder(),
    async embeddingsRequest(body, credential): Promise<HttpCall> {
      const { url, headers } = await endpoint(credential, 'embeddings', String(body.model));
      return { url, headers, body: JSON.stringify(body) };
    },
    embeddingsResponse(payload) {
      const body = parseAnswer(payload, spec.id);
      return { body, usage: usageFromOpenAI(body.usage as never) };
    },
    // Only providers that serve the Responses API themselves; the others are reached through chat.
    ...(spec.endpoints.includes('responses') && {
      async responsesRequest(body: Record<string, unknown>, credential: ResolvedCredential): Promise<HttpCall> {
        const { url, headers, model } = await endpoint(credential, 'responses', String(body.model));
        return { url, headers, body: JSON.stringify(model === undefined ? body : { ...body, model }) };
      },
    }),
    errorMessage: errorBodyMessage,
  };
}
