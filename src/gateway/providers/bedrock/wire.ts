/**
 * The Bedrock Runtime Converse wire format, as far as Tollgate reads or writes it.
 * https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_Converse.html
 */

export type ImageFormat = 'png' | 'jpeg' | 'gif' | 'webp';

export type ToolResultContent = { text: string } | { json: unknown };

export type ContentBlock =
  | { text: string }
  | { image: { format: ImageFormat; source: { bytes: string } } }
  | { toolUse: { toolUseId: string; name: string; input: unknown } }
  | { toolResult: { toolUseId: string; content: ToolResultContent[]; status?: 'success' | 'error' } };

export interface ConverseMessage {
  role: 'user' | 'assistant';
  content: ContentBlock[];
}

export interface ToolSpec {
  toolSpec: { name: string; description?: string; inputSchema: { json: unknown } };
}

export type ToolChoice = { auto: Record<string, never> } | { any: Record<string, never> } | { tool: { name: string } };

export interface ToolConfig {
  tools: ToolSpec[];
  toolChoice?: ToolChoice;
}

export interface InferenceConfig {
  maxTokens?: number;
  temperature?: number;
  topP?: number;
  stopSequences?: string[];
}

export interface ConverseRequest {
  messages: ConverseMessage[];
  system?: Array<{ text: string }>;
  inferenceConfig?: InferenceConfig;
  toolConfig?: ToolConfig;
}

export interface TokenUsage {
  inputTokens?: number;
  outputTokens?: number;
  totalTokens?: number;
  cacheReadInputTokens?: number;
  /** Every cache write, whatever its life. */
  cacheWriteInputTokens?: number;
  /** Cache writes by life, 1 hour before 5 minutes; absent or empty when nothing was written. */
  cacheDetails?: Array<{ ttl?: '5m' | '1h' | string; inputTokens?: number }>;
}

/** A content block of a response: only the kinds Tollgate translates are typed. */
export interface OutputBlock {
  text?: string;
  toolUse?: { toolUseId: string; name: string; input: unknown };
}

export interface ConverseResponse {
  output?: { message?: { role: string; content?: OutputBlock[] } };
  stopReason?: string;
  usage?: TokenUsage;
  metrics?: { latencyMs?: number };
}
