import { unsupported } from '../shared/refusals.ts';
import { contentParts, contentText } from './content-parts.ts';
import { SKIP_SIGNATURE, thoughtSignatureOf } from './tool-call-id.ts';
import type { GeminiContent, GeminiPart } from './wire.ts';

type Message = Record<string, unknown>;
interface ToolCall {
  id?: unknown;
  function?: { name?: unknown; arguments?: unknown };
  extra_content?: { google?: { thought_signature?: unknown } };
}

/** Function arguments as Gemini wants them: an object (OpenAI sends a JSON string). */
function argsOf(raw: unknown): Record<string, unknown> {
  if (raw && typeof raw === 'object' && !Array.isArray(raw)) return raw as Record<string, unknown>;
  if (typeof raw !== 'string' || raw.trim() === '') return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw unsupported('gemini', 'tool call arguments must be a JSON object');
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw unsupported('gemini', 'tool call arguments must be a JSON object');
  }
  return parsed as Record<string, unknown>;
}

/**
 * A tool result as a `functionResponse.response`, which must be a JSON object: a result that is
 * a JSON object is sent as is; anything else (text, a number, an array) is wrapped as `{content}`.
 */
export function functionResponseOf(content: unknown): Record<string, unknown> {
  const text = contentText(content);
  try {
    const parsed: unknown = JSON.parse(text);
    if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) return parsed as Record<string, unknown>;
    return { content: parsed };
  } catch {
    return { content: text };
  }
}

function signatureOf(call: ToolCall): string | undefined {
  const extra = call.extra_content?.google?.thought_signature;
  if (typeof extra === 'string' && extra !== '') return extra;
  return typeof call.id === 'string' ? thoughtSignatureOf(call.id) : undefined;
}

function assistantParts(message: Message, names: Map<string, string>): GeminiPart[] {
  const parts = contentParts(message.content);
  const calls = Array.isArray(message.tool_calls) ? [...(message.tool_calls as ToolCall[])] : [];
  const legacy = message.function_call as ToolCall['function'] | undefined;
  if (legacy) calls.push({ function: legacy });
  for (const call of calls) {
    const name = String(call.function?.name ?? '');
    if (name === '') throw unsupported('gemini', 'an assistant tool call needs a function name');
    if (typeof call.id === 'string') names.set(call.id, name);
    const part: GeminiPart = { functionCall: { name, args: argsOf(call.function?.arguments) } };
    const signature = signatureOf(call);
    if (signature) part.thoughtSignature = signature;
    parts.push(part);
  }
  return parts;
}

function toolResultPart(message: Message, names: Map<string, string>): GeminiPart {
  const id = message.tool_call_id;
  const name =
    (typeof id === 'string' ? names.get(id) : undefined) ?? (typeof message.name === 'string' ? message.name : '');
  if (name === '') throw unsupported('gemini', `a tool message refers to an unknown tool_call_id "${String(id)}"`);
  return { functionResponse: { name, response: functionResponseOf(message.content) } };
}

/** Gemini wants turns to alternate: neighbours with the same role become one content. */
function mergeSameRole(contents: GeminiContent[]): GeminiContent[] {
  const merged: GeminiContent[] = [];
  for (const content of contents) {
    const last = merged.at(-1);
    if (last && last.role === content.role) last.parts.push(...content.parts);
    else merged.push({ role: content.role, parts: [...content.parts] });
  }
  return merged;
}

/**
 * Gemini 3 validates the signature of the first function call of each model turn. Where the
 * history carries none (it was written by another model, or the client rewrote the tool call
 * ids), the documented skip value is sent instead of letting the request fail.
 */
function signFirstFunctionCalls(contents: GeminiContent[]): void {
  for (const content of contents) {
    if (content.role !== 'model') continue;
    const first = content.parts.find((part) => part.functionCall);
    if (first && !first.thoughtSignature) first.thoughtSignature = SKIP_SIGNATURE;
  }
}

/**
 * OpenAI messages → Gemini `contents` and `systemInstruction`. System and developer messages,
 * wherever they appear, become the system instruction; assistant turns become `model` turns with
 * their tool calls as `functionCall` parts; tool results become `functionResponse` parts of a
 * `user` turn, named after the tool call they answer.
 */
export function toContents(messages: Message[]): { contents: GeminiContent[]; systemInstruction?: GeminiContent } {
  const system: GeminiPart[] = [];
  const contents: GeminiContent[] = [];
  const names = new Map<string, string>();
  for (const message of messages) {
    const role = message.role;
    let content: GeminiContent;
    if (role === 'system' || role === 'developer') {
      system.push(...contentParts(message.content));
      continue;
    }
    if (role === 'user') content = { role: 'user', parts: contentParts(message.content) };
    else if (role === 'assistant') content = { role: 'model', parts: assistantParts(message, names) };
    else if (role === 'tool' || role === 'function')
      content = { role: 'user', parts: [toolResultPart(message, names)] };
    else throw unsupported('gemini', `messages with role "${String(role)}" cannot be sent to Gemini`);
    if (content.parts.length > 0) contents.push(content);
  }
  if (contents.length === 0)
    throw unsupported('gemini', 'Gemini needs at least one user or assistant message with content');
  const merged = mergeSameRole(contents);
  signFirstFunctionCalls(merged);
  return system.length > 0 ? { contents: merged, systemInstruction: { parts: system } } : { contents: merged };
}
