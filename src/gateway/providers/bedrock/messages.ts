import { unsupported } from '../shared/refusals.ts';
import { imageBlock } from './images.ts';
import type { ContentBlock, ConverseMessage } from './wire.ts';

type Json = Record<string, unknown>;

/** The OpenAI conversation in Converse's shape: system prompts apart, turns alternating. */
export interface Conversation {
  system: Array<{ text: string }>;
  messages: ConverseMessage[];
}

/**
 * OpenAI messages → Converse messages. System and developer messages become the system
 * prompt wherever they stand; tool calls become `toolUse` blocks and tool messages `toolResult`
 * blocks of a user turn. Converse wants user and assistant turns to alternate, so consecutive
 * turns of one role (several tool results, or tool results followed by the user's next
 * question) are merged into one. Blank text is dropped: Converse rejects blank text blocks.
 */
export function conversation(messages: Json[]): Conversation {
  const system: Array<{ text: string }> = [];
  const turns: ConverseMessage[] = [];
  for (const message of messages) {
    const role = message.role;
    if (role === 'system' || role === 'developer') {
      for (const text of texts(message.content, role)) system.push({ text });
    } else if (role === 'user') {
      append(turns, 'user', userContent(message.content));
    } else if (role === 'assistant') {
      append(turns, 'assistant', assistantContent(message));
    } else if (role === 'tool') {
      append(turns, 'user', [toolResult(message)]);
    } else {
      throw unsupported('bedrock', `AWS Bedrock does not support messages with role "${String(role)}"`);
    }
  }
  return { system, messages: turns };
}

function append(turns: ConverseMessage[], role: ConverseMessage['role'], content: ContentBlock[]): void {
  if (content.length === 0) return;
  const last = turns.at(-1);
  if (last?.role === role) last.content.push(...content);
  else turns.push({ role, content });
}

/** The non-blank texts of a string or an array of text parts. */
function texts(content: unknown, role: string): string[] {
  if (content === null || content === undefined) return [];
  if (typeof content === 'string') return isBlank(content) ? [] : [content];
  if (!Array.isArray(content))
    throw unsupported('bedrock', `The content of a ${role} message must be a string or an array`);
  return content.flatMap((part: Json) => {
    if (part?.type !== 'text') throw unsupported('bedrock', `A ${role} message may only contain text parts`);
    const text = String(part.text ?? '');
    return isBlank(text) ? [] : [text];
  });
}

function userContent(content: unknown): ContentBlock[] {
  if (!Array.isArray(content)) return texts(content, 'user').map((text) => ({ text }));
  return content.flatMap((part: Json): ContentBlock[] => {
    if (part?.type === 'text') {
      const text = String(part.text ?? '');
      return isBlank(text) ? [] : [{ text }];
    }
    if (part?.type === 'image_url') {
      const image = part.image_url as { url?: unknown } | string | undefined;
      const url = typeof image === 'string' ? image : image?.url;
      if (typeof url !== 'string') throw unsupported('bedrock', 'An image_url part needs a url');
      return [imageBlock(url)];
    }
    throw unsupported('bedrock', `AWS Bedrock does not support "${String(part?.type)}" content parts`);
  });
}

function assistantContent(message: Json): ContentBlock[] {
  const blocks: ContentBlock[] = [];
  const content = message.content;
  if (Array.isArray(content)) {
    // Assistant parts may be text or refusal; a refusal is what the model said.
    for (const part of content as Json[]) {
      const text = String(part?.type === 'refusal' ? (part.refusal ?? '') : (part?.text ?? ''));
      if (!isBlank(text)) blocks.push({ text });
    }
  } else {
    for (const text of texts(content, 'assistant')) blocks.push({ text });
  }
  const calls = Array.isArray(message.tool_calls) ? (message.tool_calls as Json[]) : [];
  for (const call of calls) {
    const fn = (call.function ?? {}) as { name?: unknown; arguments?: unknown };
    const id = String(call.id ?? '');
    blocks.push({ toolUse: { toolUseId: id, name: String(fn.name ?? ''), input: toolInput(fn.arguments, id) } });
  }
  return blocks;
}

/** OpenAI carries tool arguments as a JSON string; Converse wants the JSON object itself. */
function toolInput(args: unknown, id: string): unknown {
  if (args === undefined || args === null || args === '') return {};
  if (typeof args !== 'string') return args;
  try {
    return JSON.parse(args);
  } catch {
    throw unsupported('bedrock', `The arguments of tool call "${id}" are not valid JSON`);
  }
}

function toolResult(message: Json): ContentBlock {
  const toolUseId = message.tool_call_id;
  if (typeof toolUseId !== 'string' || toolUseId === '')
    throw unsupported('bedrock', 'A tool message needs a tool_call_id');
  return { toolResult: { toolUseId, content: texts(message.content, 'tool').map((text) => ({ text })) } };
}

function isBlank(text: string): boolean {
  return text.trim() === '';
}
