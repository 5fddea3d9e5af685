import { randomBytes } from 'node:crypto';
import type { Json } from '../../admission.ts';
import { cacheWrites, type Usage, usageFromOpenAI } from '../../metering/cost.ts';
import type { OpenAIObject } from '../../providers/adapter.ts';
import { type ToolName, toolNames } from './tool-names.ts';
import {
  type CustomToolCallItem,
  type FunctionCallItem,
  type ItemStatus,
  isObject,
  type MessageItem,
  type OutputItem,
  type ResponseObject,
  type ResponseStatus,
  type ResponsesUsage,
} from './wire.ts';

/** An id in OpenAI's style: a prefix (`resp`, `msg`, `fc`, `call`) and random hex. */
export const newId = (prefix: string) => `${prefix}_${randomBytes(16).toString('hex')}`;

/** The gateway's usage as the Responses API's `usage` object. */
export function responsesUsage(usage: Usage): ResponsesUsage {
  const writes = cacheWrites(usage);
  return {
    input_tokens: usage.promptTokens,
    input_tokens_details: { cached_tokens: usage.cachedTokens, ...(writes > 0 && { cache_write_tokens: writes }) },
    output_tokens: usage.completionTokens,
    output_tokens_details: { reasoning_tokens: usage.reasoningTokens ?? 0 },
    total_tokens: usage.promptTokens + usage.completionTokens,
  };
}

/** How a chat answer ended, as a response's status: cut short by the output cap or a filter is `incomplete`. */
export function endOf(finishReason: unknown): Pick<ResponseObject, 'status' | 'incomplete_details'> {
  if (finishReason === 'length') return { status: 'incomplete', incomplete_details: { reason: 'max_output_tokens' } };
  if (finishReason === 'content_filter')
    return { status: 'incomplete', incomplete_details: { reason: 'content_filter' } };
  return { status: 'completed', incomplete_details: null };
}

/**
 * A response object for the caller's request: the settings it asked for echoed back, as OpenAI
 * does, named after the public model it asked for. Never stored.
 */
export function responseFor(
  body: Json,
  id: string,
  createdAt: number,
  status: ResponseStatus,
  output: OutputItem[],
  usage: Usage | undefined,
): ResponseObject {
  const reasoning = isObject(body.reasoning) ? body.reasoning : {};
  return {
    id,
    object: 'response',
    created_at: createdAt,
    status,
    background: false,
    error: null,
    incomplete_details: null,
    instructions: body.instructions ?? null,
    max_output_tokens: typeof body.max_output_tokens === 'number' ? body.max_output_tokens : null,
    model: String(body.model ?? ''),
    output,
    parallel_tool_calls: body.parallel_tool_calls !== false,
    previous_response_id: null,
    reasoning: { effort: reasoning.effort ?? null, summary: null },
    store: false,
    temperature: typeof body.temperature === 'number' ? body.temperature : null,
    text: isObject(body.text) ? body.text : { format: { type: 'text' } },
    tool_choice: body.tool_choice ?? 'auto',
    tools: Array.isArray(body.tools) ? body.tools : [],
    top_p: typeof body.top_p === 'number' ? body.top_p : null,
    truncation: 'disabled',
    usage: usage ? responsesUsage(usage) : null,
    user: typeof body.user === 'string' ? body.user : null,
    metadata: isObject(body.metadata) ? body.metadata : {},
  };
}

/** A chat tool call's id, or a fresh one for providers that give none. */
export const callId = (id: unknown) => (typeof id === 'string' && id !== '' ? id : newId('call'));

/** A custom tool's free-form input, from the arguments a chat model wrote for it (`{"input": "…"}`). */
export function customInput(args: string): string {
  try {
    const parsed = JSON.parse(args) as unknown;
    if (isObject(parsed) && typeof parsed.input === 'string') return parsed.input;
  } catch {
    // Not the JSON asked for: the text as the model wrote it.
  }
  return args;
}

/**
 * A chat tool call as the caller's item, named as the caller named the tool: a `function_call`,
 * or for a `custom` tool a `custom_tool_call` with its free-form input.
 */
export function toolCall(
  call: Json,
  names: Map<string, ToolName>,
  status: ItemStatus,
): FunctionCallItem | CustomToolCallItem {
  const fn = (call.function ?? {}) as Json;
  const chatName = String(fn.name ?? '');
  const named = names.get(chatName);
  const args = typeof fn.arguments === 'string' ? fn.arguments : '';
  const name = named?.name ?? chatName;
  if (named?.custom) {
    return {
      id: newId('ctc'),
      type: 'custom_tool_call',
      status,
      call_id: callId(call.id),
      name,
      input: customInput(args),
    };
  }
  return {
    id: newId('fc'),
    type: 'function_call',
    status,
    arguments: args,
    call_id: callId(call.id),
    name,
    ...(named?.namespace !== undefined && { namespace: named.namespace }),
  };
}

/**
 * An OpenAI `chat.completion` → a Responses `response`: the text (or refusal) as one message
 * item, each tool call as a `function_call` (or `custom_tool_call`) item. Reasoning text (`reasoning_content`) is not
 * given back: a reasoning item needs content only OpenAI's own models produce; its tokens are
 * in `usage`.
 */
export function chatToResponse(completion: OpenAIObject, body: Json): ResponseObject {
  const choice = ((completion.choices as Json[] | undefined) ?? [])[0] ?? {};
  const message = (choice.message ?? {}) as Json;
  const end = endOf(choice.finish_reason);
  const itemStatus = end.status === 'incomplete' ? 'incomplete' : 'completed';
  const output: OutputItem[] = [];
  const content: MessageItem['content'] = [];
  if (typeof message.content === 'string' && message.content !== '') {
    content.push({ type: 'output_text', text: message.content, annotations: [], logprobs: [] });
  }
  if (typeof message.refusal === 'string' && message.refusal !== '') {
    content.push({ type: 'refusal', refusal: message.refusal });
  }
  if (content.length > 0) {
    output.push({ id: newId('msg'), type: 'message', status: itemStatus, role: 'assistant', content });
  }
  const names = toolNames(body.tools);
  for (const call of Array.isArray(message.tool_calls) ? (message.tool_calls as Json[]) : []) {
    output.push(toolCall(call, names, 'completed'));
  }
  const created = typeof completion.created === 'number' ? completion.created : Math.floor(Date.now() / 1000);
  const usage = usageFromOpenAI(completion.usage as never);
  return { ...responseFor(body, newId('resp'), created, end.status, output, usage), ...end };
}
