import { createRequire } from 'node:module';
import { type ChatCompletionFunctionDefinition, estimateTokensInFunctions } from 'gpt-tokenizer/functionCalling';

/**
 * Token counts for when a provider reports no usage (a stream cut short, a server that never
 * sends it), so that a call is never billed as free. Counting uses OpenAI's o200k_base encoding
 * and OpenAI's chat framing (about three tokens per message, three to prime the reply). For
 * OpenAI's current models that is close to what they bill; for every other provider's model it
 * is an estimate — their tokenizers differ, typically by 10–30 %.
 *
 * The encoding's tables take ~0.2 s and tens of MB to load, so they are loaded on the first
 * count, not at import; call {@link preloadTokenizer} at start-up to move that cost off a request.
 */

interface Encoding {
  countTokens(text: string, options: { disallowedSpecial: Set<string> }): number;
}

let encoding: Encoding | undefined;
/** Text such as `<|endoftext|>` in a prompt is counted as ordinary text, never refused. */
const AS_TEXT = { disallowedSpecial: new Set<string>() };

function loaded(): Encoding {
  // createRequire keeps counting synchronous while deferring the load to the first use.
  encoding ??= createRequire(import.meta.url)('gpt-tokenizer/cjs/encoding/o200k_base') as Encoding;
  return encoding;
}

/** Loads the encoding now rather than on the first count. */
export function preloadTokenizer(): void {
  loaded();
}

/** Tokens OpenAI adds around every message (`<|im_start|>`, role separator, `<|im_end|>`). */
const PER_MESSAGE = 3;
/** A message's `name` costs one token besides its own. */
const PER_NAME = 1;
/** Every reply is primed with `<|im_start|>assistant<|im_sep|>`. */
const REPLY_PRIMING = 3;
/** OpenAI's framing of one tool call inside an assistant message. */
const PER_TOOL_CALL = 3;
/**
 * Image inputs cost tokens by size and detail; without decoding the image, assume a 1024×1024
 * picture: 85 tokens at `detail: "low"`, 765 otherwise (85 + 4 tiles × 170).
 */
const IMAGE_LOW = 85;
const IMAGE_HIGH = 765;

/**
 * Longest run without white space handed to the encoder in one piece. BPE merges within a
 * pre-token take time quadratic in its length: 64,000 characters without a space took 3.5 s,
 * so a hostile prompt (or answer) of one long "word" would stall the gateway's thread. Longer
 * runs are counted in slices of this size; the sum differs from the exact count by at most a
 * token or so per slice.
 */
const MAX_RUN = 256;
const LONG_RUN = new RegExp(`\\S{${MAX_RUN + 1},}`, 'g');

/** Tokens of a piece of text, in time linear in its length. */
export function countTextTokens(text: string): number {
  if (!text) return 0;
  const encoder = loaded();
  if (!LONG_RUN.test(text)) return encoder.countTokens(text, AS_TEXT);
  LONG_RUN.lastIndex = 0;
  let tokens = 0;
  let rest = '';
  let from = 0;
  for (const match of text.matchAll(LONG_RUN)) {
    rest += text.slice(from, match.index);
    for (let at = 0; at < match[0].length; at += MAX_RUN) {
      tokens += encoder.countTokens(match[0].slice(at, at + MAX_RUN), AS_TEXT);
    }
    from = match.index + match[0].length;
  }
  rest += text.slice(from);
  return tokens + (rest ? encoder.countTokens(rest, AS_TEXT) : 0);
}

interface ToolCall {
  function?: { name?: unknown; arguments?: unknown };
}

/** Tokens of a message's `content`: a string, or parts (text, images, refusals…). */
function contentTokens(content: unknown): number {
  if (typeof content === 'string') return countTextTokens(content);
  if (!Array.isArray(content)) return 0;
  let tokens = 0;
  for (const part of content as Array<Record<string, unknown>>) {
    if (!part || typeof part !== 'object') continue;
    if (typeof part.text === 'string') tokens += countTextTokens(part.text);
    else if (typeof part.refusal === 'string') tokens += countTextTokens(part.refusal);
    else if (part.type === 'image_url') {
      const detail = (part.image_url as { detail?: unknown } | undefined)?.detail;
      tokens += detail === 'low' ? IMAGE_LOW : IMAGE_HIGH;
    }
  }
  return tokens;
}

function toolCallTokens(call: ToolCall | undefined): number {
  const fn = call?.function;
  if (!fn) return 0;
  const name = typeof fn.name === 'string' ? fn.name : '';
  const args = typeof fn.arguments === 'string' ? fn.arguments : fn.arguments ? JSON.stringify(fn.arguments) : '';
  return countTextTokens(name) + countTextTokens(args) + PER_TOOL_CALL;
}

/** Tokens of one OpenAI chat message, framing included. */
export function countMessageTokens(message: Record<string, unknown>): number {
  let tokens = PER_MESSAGE;
  if (typeof message.role === 'string') tokens += countTextTokens(message.role);
  tokens += contentTokens(message.content);
  if (typeof message.name === 'string' && message.name) tokens += countTextTokens(message.name) + PER_NAME;
  if (typeof message.tool_call_id === 'string') tokens += countTextTokens(message.tool_call_id);
  if (Array.isArray(message.tool_calls)) {
    for (const call of message.tool_calls as ToolCall[]) tokens += toolCallTokens(call);
  }
  if (message.function_call && typeof message.function_call === 'object') {
    tokens += toolCallTokens({ function: message.function_call as ToolCall['function'] });
  }
  return tokens;
}

/** The function definitions of `tools` (and legacy `functions`), in the shape OpenAI renders them. */
function functionDefinitions(tools: unknown, functions: unknown): ChatCompletionFunctionDefinition[] {
  const definitions: ChatCompletionFunctionDefinition[] = [];
  if (Array.isArray(tools)) {
    for (const tool of tools as Array<{ type?: unknown; function?: unknown }>) {
      const fn = tool?.function as ChatCompletionFunctionDefinition | undefined;
      if (fn && typeof fn.name === 'string') definitions.push(fn);
    }
  }
  if (Array.isArray(functions)) {
    for (const fn of functions as ChatCompletionFunctionDefinition[]) {
      if (fn && typeof fn.name === 'string') definitions.push(fn);
    }
  }
  return definitions;
}

/** Tokens that tool definitions add to a prompt (rendered as OpenAI renders them internally). */
export function countToolTokens(tools: unknown, functions?: unknown): number {
  const definitions = functionDefinitions(tools, functions);
  return definitions.length > 0 ? estimateTokensInFunctions(definitions, countTextTokens) : 0;
}

export interface ChatTokenCount {
  promptTokens: number;
  completionTokens: number;
}

export interface ChatTokenOptions {
  /** The request's `tools` (and legacy `functions`): their definitions are part of the prompt. */
  tools?: unknown;
  functions?: unknown;
  /** Tool calls the reply made (as accumulated from a stream); they are part of the completion. */
  completionToolCalls?: unknown;
}

/**
 * Prompt tokens of an OpenAI chat request's messages (framing, names, tool calls and tool
 * results included) and completion tokens of the reply's text and tool calls.
 */
export function countChatTokens(
  messages: ReadonlyArray<Record<string, unknown>>,
  completionText = '',
  options: ChatTokenOptions = {},
): ChatTokenCount {
  let promptTokens = REPLY_PRIMING;
  for (const message of messages) {
    if (message && typeof message === 'object') promptTokens += countMessageTokens(message);
  }
  const toolTokens = countToolTokens(options.tools, options.functions);
  if (toolTokens > 0) {
    promptTokens += toolTokens;
    // OpenAI folds the definitions into the system message, saving its framing.
    if (messages.some((message) => message?.role === 'system' || message?.role === 'developer')) promptTokens -= 4;
  }
  let completionTokens = countTextTokens(completionText);
  if (Array.isArray(options.completionToolCalls)) {
    for (const call of options.completionToolCalls as ToolCall[]) completionTokens += toolCallTokens(call);
  }
  return { promptTokens, completionTokens };
}

/** Prompt tokens of an embeddings request's `input` (a string or strings; token arrays counted as given). */
export function countEmbeddingTokens(input: unknown): number {
  if (typeof input === 'string') return countTextTokens(input);
  if (!Array.isArray(input)) return 0;
  if (input.every((item) => typeof item === 'number')) return input.length;
  let tokens = 0;
  for (const item of input) {
    if (typeof item === 'string') tokens += countTextTokens(item);
    else if (Array.isArray(item)) tokens += item.length;
  }
  return tokens;
}
