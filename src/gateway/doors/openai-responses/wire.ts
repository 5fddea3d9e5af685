import type { Json } from '../../admission.ts';

/** A JSON object (not an array, not null): what most fields of a request must be to be read. */
export const isObject = (value: unknown): value is Json =>
  value !== null && typeof value === 'object' && !Array.isArray(value);

/**
 * The parts of OpenAI's Responses API this door writes (openai-node's
 * `src/resources/responses/responses.ts` has the full types). Requests are read loosely, as
 * JSON, since unknown fields pass through to OpenAI untouched.
 */

export interface ResponsesUsage {
  input_tokens: number;
  /** `cache_write_tokens` only when the provider reported cache writes (Anthropic, Bedrock). */
  input_tokens_details: { cached_tokens: number; cache_write_tokens?: number };
  output_tokens: number;
  output_tokens_details: { reasoning_tokens: number };
  total_tokens: number;
}

export interface OutputText {
  type: 'output_text';
  text: string;
  annotations: unknown[];
  logprobs: unknown[];
}

export interface OutputRefusal {
  type: 'refusal';
  refusal: string;
}

export type ItemStatus = 'in_progress' | 'completed' | 'incomplete';

export interface MessageItem {
  id: string;
  type: 'message';
  status: ItemStatus;
  role: 'assistant';
  content: Array<OutputText | OutputRefusal>;
}

export interface FunctionCallItem {
  id: string;
  type: 'function_call';
  status: ItemStatus;
  arguments: string;
  call_id: string;
  name: string;
  /** The namespace of a namespaced function tool. */
  namespace?: string;
}

/** A call of a `custom` tool: its free-form input, as the model wrote it. */
export interface CustomToolCallItem {
  id: string;
  type: 'custom_tool_call';
  status: ItemStatus;
  call_id: string;
  name: string;
  input: string;
}

export type OutputItem = MessageItem | FunctionCallItem | CustomToolCallItem;

export type ResponseStatus = 'in_progress' | 'completed' | 'incomplete' | 'failed';

/** A `response` object, as a whole answer and inside the stream's lifecycle events. */
export interface ResponseObject {
  id: string;
  object: 'response';
  created_at: number;
  status: ResponseStatus;
  background: false;
  error: { code: string; message: string } | null;
  incomplete_details: { reason: 'max_output_tokens' | 'content_filter' } | null;
  instructions: unknown;
  max_output_tokens: number | null;
  model: string;
  output: OutputItem[];
  parallel_tool_calls: boolean;
  previous_response_id: null;
  reasoning: { effort: unknown; summary: null };
  /** Tollgate keeps nothing: a translated response is never stored. */
  store: false;
  temperature: number | null;
  text: unknown;
  tool_choice: unknown;
  tools: unknown[];
  top_p: number | null;
  truncation: 'disabled';
  usage: ResponsesUsage | null;
  user: string | null;
  metadata: Record<string, unknown>;
}
