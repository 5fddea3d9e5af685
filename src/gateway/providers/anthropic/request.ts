import type { ChatRequest, HttpCall } from '../adapter.ts';
import { ANTHROPIC_USER_ID_MAX, fitUserId } from '../shared/end-user.ts';
import { requireFields, unsupported } from '../shared/refusals.ts';
import type { ResolvedCredential } from '../types.ts';
import { toAnthropicMessages } from './messages.ts';
import { anthropic, DEFAULT_BASE_URL } from './spec.ts';
import { ANTHROPIC_VERSION } from './wire.ts';

type Json = Record<string, unknown>;

/** Anthropic requires `max_tokens`; OpenAI callers often leave it out. */
export const DEFAULT_MAX_TOKENS = 4096;

const invalid = (detail: string) => unsupported('anthropic', detail);

function tools(list: unknown): Json[] | undefined {
  if (!Array.isArray(list) || list.length === 0) return undefined;
  return (list as Json[]).map((tool) => {
    if (tool?.type !== 'function') throw invalid(`Anthropic does not support tools of type "${String(tool?.type)}"`);
    const fn = (tool.function ?? {}) as { name?: unknown; description?: unknown; parameters?: unknown };
    if (typeof fn.name !== 'string' || fn.name === '') throw invalid('every tool needs a function name');
    return {
      name: fn.name,
      ...(typeof fn.description === 'string' ? { description: fn.description } : {}),
      // Anthropic insists on an object schema; a function without parameters takes none.
      input_schema: fn.parameters ?? { type: 'object', properties: {} },
    };
  });
}

function toolChoice(choice: unknown, parallel: unknown): Json | undefined {
  let mapped: Json | undefined;
  if (choice === 'auto') mapped = { type: 'auto' };
  else if (choice === 'none') mapped = { type: 'none' };
  else if (choice === 'required') mapped = { type: 'any' };
  else if (choice && typeof choice === 'object') {
    const name = (choice as { function?: { name?: unknown } }).function?.name;
    if (typeof name !== 'string') throw invalid('tool_choice must name a function');
    mapped = { type: 'tool', name };
  }
  if (parallel === false && mapped?.type !== 'none')
    return { ...(mapped ?? { type: 'auto' }), disable_parallel_tool_use: true };
  return mapped;
}

function stopSequences(stop: unknown): string[] | undefined {
  if (typeof stop === 'string') return [stop];
  if (Array.isArray(stop) && stop.length > 0) return stop.map(String);
  return undefined;
}

/**
 * An OpenAI chat body → an Anthropic Messages body. Only fields Anthropic knows are sent
 * (it refuses unknown ones), so OpenAI-only options (n, logprobs, penalties, seed,
 * response_format, stream_options, …) are dropped. Temperature is capped at 1, Anthropic's
 * maximum (OpenAI allows up to 2).
 */
export function toAnthropicRequest(body: ChatRequest, stream: boolean): Json {
  const { system, messages } = toAnthropicMessages(body.messages);
  const maxTokens = body.max_completion_tokens ?? body.max_tokens;
  const out: Json = {
    model: body.model,
    max_tokens: typeof maxTokens === 'number' ? maxTokens : DEFAULT_MAX_TOKENS,
    messages,
  };
  if (system !== undefined) out.system = system;
  if (typeof body.temperature === 'number') out.temperature = Math.min(Math.max(body.temperature, 0), 1);
  if (typeof body.top_p === 'number') out.top_p = body.top_p;
  const stop = stopSequences(body.stop);
  if (stop) out.stop_sequences = stop;
  const toolList = tools(body.tools);
  if (toolList) {
    out.tools = toolList;
    const choice = toolChoice(body.tool_choice, body.parallel_tool_calls);
    if (choice) out.tool_choice = choice;
  }
  if (typeof body.user === 'string' && body.user !== '') {
    out.metadata = { user_id: fitUserId(body.user, ANTHROPIC_USER_ID_MAX) };
  }
  if (stream) out.stream = true;
  return out;
}

/** `{baseUrl}/v1/messages`, accepting a base URL given with or without its `/v1`. */
export function messagesUrl(credential: ResolvedCredential): string {
  const base = (credential.settings.baseUrl || DEFAULT_BASE_URL).replace(/\/+$/, '');
  return base.endsWith('/v1') ? `${base}/messages` : `${base}/v1/messages`;
}

/** Anthropic's headers; a credential without its API key is a 502 `TG_ERR_PROVIDER_AUTH`, not a call bound to fail. */
export function anthropicHeaders(credential: ResolvedCredential): Record<string, string> {
  requireFields(anthropic, credential);
  return {
    'content-type': 'application/json',
    'anthropic-version': ANTHROPIC_VERSION,
    'x-api-key': credential.secrets.apiKey as string,
  };
}

export async function chatRequest(
  body: ChatRequest,
  credential: ResolvedCredential,
  stream: boolean,
): Promise<HttpCall> {
  return {
    url: messagesUrl(credential),
    headers: anthropicHeaders(credential),
    body: JSON.stringify(toAnthropicRequest(body, stream)),
  };
}
