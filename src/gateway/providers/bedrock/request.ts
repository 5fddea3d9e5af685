import type { ChatRequest, HttpCall } from '../adapter.ts';
import { unsupported } from '../shared/refusals.ts';
import type { ResolvedCredential } from '../types.ts';
import { conversation } from './messages.ts';
import { awsKeys, signedHeaders } from './sign.ts';
import { toolConfig } from './tools.ts';
import type { ConverseRequest, InferenceConfig } from './wire.ts';

/** The signed Converse (or ConverseStream) call for an OpenAI chat request. */
export async function chatRequest(
  body: ChatRequest,
  credential: ResolvedCredential,
  stream: boolean,
): Promise<HttpCall> {
  const keys = awsKeys(credential);
  const url = converseUrl(credential.settings.baseUrl || defaultBaseUrl(keys.region), body.model, stream);
  const json = JSON.stringify(toBedrockRequest(body));
  const accept = stream ? 'application/vnd.amazon.eventstream' : 'application/json';
  const headers = await signedHeaders(url, { 'content-type': 'application/json', accept }, json, keys);
  return { url, headers, body: json };
}

export function defaultBaseUrl(region: string): string {
  return `https://bedrock-runtime.${region}.amazonaws.com`;
}

/**
 * `{base}/model/{modelId}/converse[-stream]`, the model id escaped as one path segment: ids
 * hold `:` (`anthropic.claude-3-haiku-20240307-v1:0`) and ARNs hold `/`.
 */
export function converseUrl(baseUrl: string, model: string, stream: boolean): string {
  const modelId = encodeURIComponent(model).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
  return `${baseUrl.replace(/\/+$/, '')}/model/${modelId}/${stream ? 'converse-stream' : 'converse'}`;
}

/** OpenAI Chat Completions body → Converse request body. */
export function toBedrockRequest(body: ChatRequest): ConverseRequest {
  if (typeof body.n === 'number' && body.n > 1)
    throw unsupported('bedrock', 'AWS Bedrock returns one choice per request; n must be 1');
  const { system, messages } = conversation(body.messages);
  const request: ConverseRequest = { messages };
  if (system.length > 0) request.system = system;
  const inference = inferenceConfig(body);
  if (Object.keys(inference).length > 0) request.inferenceConfig = inference;
  const tools = toolConfig(body, messages);
  if (tools) request.toolConfig = tools;
  return request;
}

function inferenceConfig(body: ChatRequest): InferenceConfig {
  const config: InferenceConfig = {};
  const maxTokens = body.max_completion_tokens ?? body.max_tokens;
  if (typeof maxTokens === 'number') config.maxTokens = maxTokens;
  if (typeof body.temperature === 'number') config.temperature = body.temperature;
  if (typeof body.top_p === 'number') config.topP = body.top_p;
  const stop = typeof body.stop === 'string' ? [body.stop] : Array.isArray(body.stop) ? body.stop : [];
  const stopSequences = stop.filter((sequence): sequence is string => typeof sequence === 'string' && sequence !== '');
  if (stopSequences.length > 0) config.stopSequences = stopSequences;
  return config;
}
