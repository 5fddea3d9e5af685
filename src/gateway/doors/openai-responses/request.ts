import { TollgateError } from '../../../errors.ts';
import type { Json } from '../../admission.ts';
import type { ChatRequest } from '../../providers/adapter.ts';
import { fitUserId, OPENAI_USER_ID_MAX } from '../../providers/shared/end-user.ts';
import { checkChatRequest } from '../../request-checks.ts';
import { chatToolName, type ToolName, toolNames } from './tool-names.ts';
import { isObject } from './wire.ts';

/**
 * A Responses API request → the gateway's chat request. Two outcomes:
 * - the chat request, which policy works on (reservation, rules, counting) whatever the target,
 *   and which translating providers are sent;
 * - a refusal: the reason only a target that serves the Responses API itself can take the body
 *   (state kept at OpenAI, hosted tools, item types chat has no words for). It is not thrown
 *   here, because an OpenAI or Azure target gets the body untouched and can serve it; the flow
 *   refuses it for other targets (the door's `untranslatable`).
 * A body that is malformed for any target (no input, an item that is not an object) is a 400 here.
 */

const invalid = (detail: string) => new TollgateError('TG_ERR_INVALID_REQUEST', detail);

/** Fields that point at state OpenAI keeps; Tollgate keeps none. */
const STATEFUL = ['previous_response_id', 'conversation', 'prompt'] as const;

export interface Translation {
  chat: ChatRequest;
  /** Why only a native target can serve this body, or undefined when any target can. */
  refusal: string | undefined;
}

class Reader {
  refusal: string | undefined;
  readonly messages: Json[] = [];

  constructor(readonly names: Map<string, ToolName>) {}

  /** Images a tool returned: chat tool messages hold text, so they follow as a user message. */
  #toolImages: Json[] = [];

  refuse(reason: string): void {
    this.refusal ??= reason;
  }

  /** Adds a message; images held back from tool outputs go first, once the tool results end. */
  push(message: Json): void {
    if (message.role !== 'tool') this.flush();
    this.messages.push(message);
  }

  toolImages(parts: Json[]): void {
    this.#toolImages.push(...parts);
  }

  flush(): void {
    if (this.#toolImages.length === 0) return;
    this.messages.push({ role: 'user', content: this.#toolImages });
    this.#toolImages = [];
  }
}

/** An `input_image` part → a chat `image_url` part; images uploaded to OpenAI (file_id) cannot travel. */
function imagePart(part: Json, reader: Reader): Json | undefined {
  if (typeof part.image_url !== 'string' || part.image_url === '') {
    reader.refuse('images given by "file_id" are stored at OpenAI: send them as "image_url" (a URL or a data: URL)');
    return undefined;
  }
  const detail = part.detail === 'low' || part.detail === 'high' || part.detail === 'auto' ? part.detail : undefined;
  return { type: 'image_url', image_url: { url: part.image_url, ...(detail && { detail }) } };
}

/** An `input_file` part: inline data becomes a chat `file` part; files stored at OpenAI cannot travel. */
function filePart(part: Json, reader: Reader): Json | undefined {
  if (typeof part.file_data !== 'string' || part.file_data === '') {
    reader.refuse('files given by "file_id" or "file_url" can only be read by OpenAI: send them as "file_data"');
    return undefined;
  }
  return {
    type: 'file',
    file: { file_data: part.file_data, ...(typeof part.filename === 'string' && { filename: part.filename }) },
  };
}

/** Content parts → chat parts. Text of every kind becomes text; what chat cannot carry is refused. */
function chatParts(content: unknown[], reader: Reader, where: string): Json[] {
  const parts: Json[] = [];
  for (const part of content) {
    if (!isObject(part)) throw invalid(`${where}: every content part must be an object`);
    switch (part.type) {
      case 'input_text':
      case 'output_text':
        parts.push({ type: 'text', text: typeof part.text === 'string' ? part.text : '' });
        break;
      case 'refusal':
        parts.push({ type: 'text', text: typeof part.refusal === 'string' ? part.refusal : '' });
        break;
      case 'input_image': {
        const image = imagePart(part, reader);
        if (image) parts.push(image);
        break;
      }
      case 'input_file': {
        const file = filePart(part, reader);
        if (file) parts.push(file);
        break;
      }
      default:
        reader.refuse(`content parts of type "${String(part.type)}" cannot be sent to this model`);
    }
  }
  return parts;
}

const textOf = (parts: Json[]) =>
  parts
    .filter((part) => part.type === 'text')
    .map((part) => part.text as string)
    .join('');

function readMessage(item: Json, reader: Reader, where: string): void {
  const role = item.role;
  if (role !== 'user' && role !== 'assistant' && role !== 'system' && role !== 'developer') {
    throw invalid(`${where}: a message's role must be "user", "assistant", "system" or "developer"`);
  }
  let parts: Json[];
  if (typeof item.content === 'string') parts = [{ type: 'text', text: item.content }];
  else if (Array.isArray(item.content)) parts = chatParts(item.content, reader, where);
  else throw invalid(`${where}: a message's content must be a string or an array of content parts`);
  if (role === 'assistant') {
    reader.push({ role: 'assistant', content: textOf(parts) });
    return;
  }
  if (role === 'system' || role === 'developer') {
    // Chat's "developer" role is OpenAI's own; every provider knows "system".
    if (parts.some((part) => part.type !== 'text')) reader.refuse('system and developer messages can only hold text');
    reader.push({ role: 'system', content: textOf(parts) });
    return;
  }
  const only = parts.length === 1 && parts[0]?.type === 'text' ? (parts[0].text as string) : undefined;
  reader.push({ role: 'user', content: only ?? parts });
}

/** A `function_call` item joins the assistant turn it belongs to: the message just before it, or a new one. */
function readFunctionCall(item: Json, reader: Reader, where: string): void {
  if (typeof item.call_id !== 'string' || typeof item.name !== 'string') {
    throw invalid(`${where}: a ${String(item.type)} needs "call_id" and "name"`);
  }
  // A custom tool's free-form input travels as the one argument of its chat function.
  const args =
    item.type === 'custom_tool_call'
      ? JSON.stringify({ input: typeof item.input === 'string' ? item.input : '' })
      : typeof item.arguments === 'string'
        ? item.arguments
        : '';
  const call = {
    id: item.call_id,
    type: 'function',
    function: { name: chatToolName(reader.names, item.name, item.namespace), arguments: args },
  };
  const last = reader.messages.at(-1);
  if (last?.role === 'assistant') {
    last.tool_calls = [...((last.tool_calls as Json[] | undefined) ?? []), call];
    if (last.content === '') last.content = null;
    return;
  }
  reader.push({ role: 'assistant', content: null, tool_calls: [call] });
}

function readFunctionOutput(item: Json, reader: Reader, where: string): void {
  if (typeof item.call_id !== 'string') throw invalid(`${where}: a ${String(item.type)} needs "call_id"`);
  let content = '';
  if (typeof item.output === 'string') content = item.output;
  else if (Array.isArray(item.output)) {
    const parts = chatParts(item.output, reader, where);
    content = textOf(parts);
    reader.toolImages(parts.filter((part) => part.type !== 'text'));
  } else throw invalid(`${where}: a ${String(item.type)}'s "output" must be a string or an array of content parts`);
  reader.push({ role: 'tool', tool_call_id: item.call_id, content });
}

function readInput(input: unknown, reader: Reader): void {
  if (typeof input === 'string') {
    reader.push({ role: 'user', content: input });
    return;
  }
  if (!Array.isArray(input)) throw invalid('"input" must be a string or an array of input items');
  for (const [index, item] of input.entries()) {
    const where = `input[${index}]`;
    if (!isObject(item)) throw invalid(`${where} must be an object`);
    // Messages may leave out `type` (OpenAI's "easy" input messages).
    const type = item.type ?? (item.role !== undefined ? 'message' : undefined);
    switch (type) {
      case 'message':
        readMessage(item, reader, where);
        break;
      case 'function_call':
      case 'custom_tool_call':
        readFunctionCall(item, reader, where);
        break;
      case 'function_call_output':
      case 'custom_tool_call_output':
        readFunctionOutput(item, reader, where);
        break;
      case 'reasoning':
        // Another model's reasoning (encrypted for OpenAI's own): of no use to this one.
        break;
      case 'item_reference':
        reader.refuse(
          '"item_reference" items point at items OpenAI stored; Tollgate stores none, so send the items themselves (with the Vercel AI SDK: providerOptions.openai.store = false)',
        );
        break;
      default:
        reader.refuse(`input items of type "${String(type)}" cannot be sent to this model`);
    }
  }
  reader.flush();
}

/**
 * Tools only OpenAI's own models can use: the hosted ones it runs itself, and search over deferred
 * tools. They are left out for other models, as the Anthropic door leaves out Anthropic's server tools.
 */
const OPENAI_ONLY = /^(web_search.*|file_search|code_interpreter|image_generation|mcp|computer.*|tool_search)$/;

/**
 * A custom tool (free-form input, such as Codex's `apply_patch`) as a chat function with one
 * string argument, `input`; its grammar, if it has one, goes into the description.
 */
function customTool(tool: Json): Json {
  const format = isObject(tool.format) ? tool.format : {};
  const grammar =
    format.type === 'grammar' && typeof format.definition === 'string'
      ? `\n\nThe input must follow this ${String(format.syntax ?? '')} grammar:\n${format.definition}`
      : '';
  return {
    description: `${typeof tool.description === 'string' ? tool.description : ''}${grammar}`,
    parameters: {
      type: 'object',
      properties: { input: { type: 'string', description: 'The free-form input, as plain text (not JSON).' } },
      required: ['input'],
    },
  };
}

function chatTool(tool: Json, name: string): Json {
  return {
    type: 'function',
    function: {
      name,
      ...(typeof tool.description === 'string' && { description: tool.description }),
      parameters: isObject(tool.parameters) ? tool.parameters : { type: 'object', properties: {} },
      ...(typeof tool.strict === 'boolean' && { strict: tool.strict }),
    },
  };
}

/**
 * Function and custom tools → chat tools, namespaced ones included (see tool-names.ts); tools only
 * OpenAI's models use are left out; other kinds (local_shell, shell, apply_patch, …) have no chat
 * form and are refused.
 */
function readTools(tools: unknown, reader: Reader): Json[] | undefined {
  if (tools === undefined || tools === null) return undefined;
  if (!Array.isArray(tools)) throw invalid('"tools" must be an array');
  const out: Json[] = [];
  for (const tool of tools) {
    if (!isObject(tool)) throw invalid('every tool must be an object');
    if (tool.type === 'function') {
      if (typeof tool.name !== 'string' || tool.name === '') throw invalid('every function tool needs a "name"');
      out.push(chatTool(tool, tool.name));
    } else if (tool.type === 'namespace' && Array.isArray(tool.tools)) {
      for (const inner of tool.tools) {
        if (!isObject(inner) || inner.type !== 'function' || typeof inner.name !== 'string') {
          reader.refuse(`namespace "${String(tool.name)}" holds a tool that is not a function`);
          continue;
        }
        out.push(chatTool(inner, chatToolName(reader.names, inner.name, tool.name)));
      }
    } else if (tool.type === 'custom') {
      if (typeof tool.name !== 'string' || tool.name === '') throw invalid('every custom tool needs a "name"');
      out.push(chatTool(customTool(tool), tool.name));
    } else if (!OPENAI_ONLY.test(String(tool.type))) {
      reader.refuse(`tools of type "${String(tool.type)}" cannot be sent to this model (function tools can)`);
    }
  }
  return out.length > 0 ? out : undefined;
}

const toolName = (tool: Json) => (tool.function as Json).name;

/** `tool_choice` in chat's words; `allowed_tools` narrows the tool list instead. */
function readToolChoice(choice: unknown, tools: Json[], reader: Reader): { choice?: unknown; tools: Json[] } {
  if (choice === undefined || choice === null) return { tools };
  if (choice === 'auto' || choice === 'none' || choice === 'required') return { choice, tools };
  if (isObject(choice) && choice.type === 'function' && typeof choice.name === 'string') {
    return { choice: { type: 'function', function: { name: choice.name } }, tools };
  }
  if (isObject(choice) && choice.type === 'allowed_tools' && Array.isArray(choice.tools)) {
    const allowed = new Set((choice.tools as Json[]).filter(isObject).map((tool) => tool.name));
    return {
      choice: choice.mode === 'required' ? 'required' : 'auto',
      tools: tools.filter((tool) => allowed.has(toolName(tool))),
    };
  }
  reader.refuse('this "tool_choice" names a tool only OpenAI runs');
  return { tools };
}

/** `text.format` → `response_format`. */
function responseFormat(text: unknown): Json | undefined {
  const format = isObject(text) ? text.format : undefined;
  if (!isObject(format)) return undefined;
  if (format.type === 'json_object') return { type: 'json_object' };
  if (format.type !== 'json_schema') return undefined;
  return {
    type: 'json_schema',
    json_schema: {
      name: typeof format.name === 'string' ? format.name : 'response',
      schema: isObject(format.schema) ? format.schema : {},
      ...(typeof format.description === 'string' && { description: format.description }),
      ...(typeof format.strict === 'boolean' && { strict: format.strict }),
    },
  };
}

/** The chat request and, for targets that only speak chat, the reason they cannot serve it. */
export function translate(body: Json): Translation {
  const reader = new Reader(toolNames(body.tools));
  for (const field of STATEFUL) {
    if (body[field] !== undefined && body[field] !== null) {
      reader.refuse(
        `"${field}" needs state that OpenAI keeps; Tollgate keeps none, so only an OpenAI or Azure OpenAI model can take it: send the whole conversation in "input" instead`,
      );
    }
  }
  if (body.background === true) reader.refuse('"background" responses are kept at OpenAI; Tollgate keeps none');
  if (body.instructions !== undefined && body.instructions !== null) {
    if (typeof body.instructions !== 'string') throw invalid('"instructions" must be a string');
    reader.push({ role: 'system', content: body.instructions });
  }
  const stateful = STATEFUL.some((field) => body[field] !== undefined && body[field] !== null);
  if (body.input === undefined || body.input === null) {
    if (!stateful) throw invalid('"input" is required');
  } else {
    if (Array.isArray(body.input) && body.input.length === 0) throw invalid('"input" must not be empty');
    readInput(body.input, reader);
  }
  if (!reader.messages.some((message) => message.role !== 'system')) {
    reader.refuse('nothing in "input" can be sent to this model');
  }

  const chat: ChatRequest = { model: String(body.model ?? ''), messages: reader.messages };
  if (typeof body.max_output_tokens === 'number') chat.max_tokens = body.max_output_tokens;
  if (typeof body.temperature === 'number') chat.temperature = body.temperature;
  if (typeof body.top_p === 'number') chat.top_p = body.top_p;
  const { choice, tools } = readToolChoice(body.tool_choice, readTools(body.tools, reader) ?? [], reader);
  if (tools.length > 0) {
    chat.tools = tools;
    if (choice !== undefined) chat.tool_choice = choice;
    if (typeof body.parallel_tool_calls === 'boolean') chat.parallel_tool_calls = body.parallel_tool_calls;
  }
  const format = responseFormat(body.text);
  if (format) chat.response_format = format;
  const effort = isObject(body.reasoning) ? body.reasoning.effort : undefined;
  if (typeof effort === 'string') chat.reasoning_effort = effort;
  // `safety_identifier` replaces `user` in the Responses API; chat's `user` is what providers read.
  const user = typeof body.user === 'string' && body.user !== '' ? body.user : body.safety_identifier;
  if (typeof user === 'string' && user !== '') chat.user = fitUserId(user, OPENAI_USER_ID_MAX);
  if (body.stream === true) {
    chat.stream = true;
    chat.stream_options = { include_usage: true };
  }
  return { chat, refusal: reader.refusal };
}

/**
 * Checks the body (the same numeric and text checks as chat, `max_output_tokens` among them)
 * and gives its chat form.
 */
export function toChat(body: Json): ChatRequest {
  checkChatRequest(body);
  if (body.stream !== undefined && body.stream !== null && typeof body.stream !== 'boolean') {
    throw invalid('"stream" must be true or false');
  }
  return translate(body).chat;
}
