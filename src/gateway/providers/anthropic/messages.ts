import { unsupported } from '../shared/refusals.ts';
import { sourceFromUrl } from './images.ts';
import type { AnthropicMessageParam, ContentBlock, ToolResultBlock } from './wire.ts';

type Json = Record<string, unknown>;

const invalid = (detail: string) => unsupported('anthropic', detail);

/** The text of an OpenAI content value: a string, or the text parts of an array. */
function textOf(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return content
    .filter((part): part is { text: string } => typeof (part as Json)?.text === 'string')
    .map((part) => part.text)
    .join('');
}

/** OpenAI content parts → Anthropic blocks. Empty text is dropped: Anthropic refuses it. */
function blocksOf(content: unknown): ContentBlock[] {
  if (typeof content === 'string') return content === '' ? [] : [{ type: 'text', text: content }];
  if (content === null || content === undefined) return [];
  if (!Array.isArray(content)) throw invalid('message content must be a string or an array of parts');
  const blocks: ContentBlock[] = [];
  for (const part of content as Json[]) {
    switch (part?.type) {
      case 'text':
      case 'refusal': {
        const text = part.type === 'text' ? part.text : part.refusal;
        if (typeof text === 'string' && text !== '') blocks.push({ type: 'text', text });
        break;
      }
      case 'image_url': {
        const image = part.image_url as { url?: unknown } | string | undefined;
        const url = typeof image === 'string' ? image : image?.url;
        if (typeof url !== 'string') throw invalid('an image_url part needs a url');
        blocks.push({ type: 'image', source: sourceFromUrl(url) });
        break;
      }
      case 'file': {
        // PDFs sent inline (`file_data` as a data: URL) become document blocks.
        const data = (part.file as { file_data?: unknown } | undefined)?.file_data;
        if (typeof data !== 'string') throw invalid('Anthropic accepts files only inline, as file_data');
        blocks.push({ type: 'document', source: sourceFromUrl(data) });
        break;
      }
      default:
        throw invalid(`Anthropic does not support "${String(part?.type)}" content parts`);
    }
  }
  return blocks;
}

function toolUse(call: Json): ContentBlock {
  const fn = (call.function ?? {}) as { name?: unknown; arguments?: unknown };
  const id = String(call.id ?? '');
  let input: unknown = {};
  if (typeof fn.arguments === 'string' && fn.arguments.trim() !== '') {
    try {
      input = JSON.parse(fn.arguments);
    } catch {
      throw invalid(`the arguments of tool call "${id}" are not valid JSON`);
    }
  }
  if (input === null || typeof input !== 'object' || Array.isArray(input)) {
    throw invalid(`the arguments of tool call "${id}" must be a JSON object`);
  }
  return { type: 'tool_use', id, name: String(fn.name ?? ''), input: input as Json };
}

function toolResult(message: Json): ToolResultBlock {
  const id = message.tool_call_id;
  if (typeof id !== 'string' || id === '') throw invalid('a tool message needs a tool_call_id');
  const text = textOf(message.content);
  return text === ''
    ? { type: 'tool_result', tool_use_id: id }
    : { type: 'tool_result', tool_use_id: id, content: text };
}

/**
 * Anthropic wants strictly alternating turns: consecutive turns of one role are merged, and
 * within a user turn the tool results come first, as the API requires after a tool use.
 */
function merge(turns: AnthropicMessageParam[]): AnthropicMessageParam[] {
  const merged: Array<{ role: 'user' | 'assistant'; content: ContentBlock[] }> = [];
  for (const turn of turns) {
    const last = merged.at(-1);
    if (last && last.role === turn.role) last.content.push(...(turn.content as ContentBlock[]));
    else merged.push({ role: turn.role, content: [...(turn.content as ContentBlock[])] });
  }
  for (const turn of merged) {
    if (turn.role !== 'user') continue;
    const results = turn.content.filter((block) => block.type === 'tool_result');
    if (results.length > 0)
      turn.content = [...results, ...turn.content.filter((block) => block.type !== 'tool_result')];
  }
  return merged;
}

/**
 * OpenAI messages → Anthropic's `system` and `messages`. System and developer messages,
 * wherever they appear, are gathered into `system`; tool messages become `tool_result`
 * blocks of a user turn; assistant tool calls become `tool_use` blocks.
 */
export function toAnthropicMessages(messages: unknown): { system?: string; messages: AnthropicMessageParam[] } {
  if (!Array.isArray(messages)) throw invalid('"messages" must be an array');
  const system: string[] = [];
  const turns: AnthropicMessageParam[] = [];
  for (const message of messages as Json[]) {
    switch (message?.role) {
      case 'system':
      case 'developer': {
        const text = textOf(message.content);
        if (text !== '') system.push(text);
        break;
      }
      case 'user':
        turns.push({ role: 'user', content: blocksOf(message.content) });
        break;
      case 'assistant': {
        const calls = Array.isArray(message.tool_calls) ? (message.tool_calls as Json[]) : [];
        turns.push({ role: 'assistant', content: [...blocksOf(message.content), ...calls.map(toolUse)] });
        break;
      }
      case 'tool':
        turns.push({ role: 'user', content: [toolResult(message)] });
        break;
      default:
        throw invalid(`Anthropic does not support messages with role "${String(message?.role)}"`);
    }
  }
  const nonEmpty = turns.filter((turn) => turn.content.length > 0);
  return { ...(system.length > 0 ? { system: system.join('\n\n') } : {}), messages: merge(nonEmpty) };
}
