/**
 * The parts of Anthropic's Messages API wire format that Tollgate reads and writes
 * (https://docs.anthropic.com/en/api/messages, API version 2023-06-01). Only the fields used
 * here are declared; the API may add others, which pass through untouched or are ignored.
 */

export const ANTHROPIC_VERSION = '2023-06-01';

export interface AnthropicUsage {
  /** Input tokens neither read from nor written to the prompt cache. */
  input_tokens?: number | null;
  output_tokens?: number | null;
  cache_read_input_tokens?: number | null;
  /** Every cache write, whatever its life. */
  cache_creation_input_tokens?: number | null;
  /** Cache writes by life (with the 1-hour cache): their sum is `cache_creation_input_tokens`. */
  cache_creation?: { ephemeral_5m_input_tokens?: number | null; ephemeral_1h_input_tokens?: number | null } | null;
}

export type ImageSource = { type: 'base64'; media_type: string; data: string } | { type: 'url'; url: string };

export interface TextBlock {
  type: 'text';
  text: string;
}

export interface ImageBlock {
  type: 'image';
  source: ImageSource;
}

export interface DocumentBlock {
  type: 'document';
  source: ImageSource;
}

export interface ToolUseBlock {
  type: 'tool_use';
  id: string;
  name: string;
  input: Record<string, unknown>;
}

export interface ToolResultBlock {
  type: 'tool_result';
  tool_use_id: string;
  content?: string | Array<TextBlock | ImageBlock | DocumentBlock>;
  is_error?: boolean;
}

export interface ThinkingBlock {
  type: 'thinking';
  thinking: string;
  signature?: string;
}

export type ContentBlock = TextBlock | ImageBlock | DocumentBlock | ToolUseBlock | ToolResultBlock | ThinkingBlock;

export interface AnthropicMessageParam {
  role: 'user' | 'assistant';
  content: string | ContentBlock[];
}

/** A `message` object: the whole answer of a non-streaming call. */
export interface AnthropicMessage {
  id: string;
  type: 'message';
  role: 'assistant';
  model: string;
  content: Array<ContentBlock | { type: string }>;
  stop_reason: string | null;
  stop_sequence: string | null;
  usage: AnthropicUsage;
}

/** One streamed event's `data`, discriminated by `type` (which repeats the SSE `event:` name). */
export type StreamEvent =
  | { type: 'message_start'; message: Partial<AnthropicMessage> }
  | { type: 'content_block_start'; index: number; content_block: { type: string } & Record<string, unknown> }
  | {
      type: 'content_block_delta';
      index: number;
      delta: { type: string; text?: string; partial_json?: string; thinking?: string };
    }
  | { type: 'content_block_stop'; index: number }
  | {
      type: 'message_delta';
      delta: { stop_reason?: string | null; stop_sequence?: string | null };
      usage?: AnthropicUsage;
    }
  | { type: 'message_stop' }
  | { type: 'ping' }
  | { type: 'error'; error: { type?: string; message?: string } };

/** The body of every Anthropic error response, and of a streamed `error` event. */
export interface AnthropicErrorBody {
  type: 'error';
  error: { type: string; message: string };
}
