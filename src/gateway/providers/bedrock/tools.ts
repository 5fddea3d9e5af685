import { unsupported } from '../shared/refusals.ts';
import type { ConverseMessage, ToolChoice, ToolConfig } from './wire.ts';

type Json = Record<string, unknown>;

/**
 * OpenAI `tools` and `tool_choice` → Converse `toolConfig`. `auto` → `{auto:{}}`,
 * `required` → `{any:{}}`, a named function → `{tool:{name}}`. Converse has no "none": the
 * tools are left out instead — unless the conversation already holds tool blocks, which
 * Converse refuses without a `toolConfig`; then the tools stay and the model chooses.
 */
export function toolConfig(body: Json, messages: ConverseMessage[]): ToolConfig | undefined {
  const tools = Array.isArray(body.tools) ? (body.tools as Json[]) : [];
  if (tools.length === 0) return undefined;
  const choice = body.tool_choice;
  if (choice === 'none' && !holdsToolBlocks(messages)) return undefined;
  const config: ToolConfig = { tools: tools.map(toolSpec) };
  const toolChoice = choiceOf(choice);
  if (toolChoice) config.toolChoice = toolChoice;
  return config;
}

function toolSpec(tool: Json): ToolConfig['tools'][number] {
  if (tool.type !== 'function')
    throw unsupported('bedrock', `AWS Bedrock does not support tools of type "${String(tool.type)}"`);
  const fn = (tool.function ?? {}) as { name?: unknown; description?: unknown; parameters?: unknown };
  if (typeof fn.name !== 'string' || fn.name === '') throw unsupported('bedrock', 'Every tool needs a function name');
  const spec: ToolConfig['tools'][number]['toolSpec'] = {
    name: fn.name,
    inputSchema: { json: fn.parameters ?? { type: 'object', properties: {} } },
  };
  if (typeof fn.description === 'string' && fn.description !== '') spec.description = fn.description;
  return { toolSpec: spec };
}

function choiceOf(choice: unknown): ToolChoice | undefined {
  if (choice === 'required') return { any: {} };
  if (choice === 'auto') return { auto: {} };
  if (choice && typeof choice === 'object') {
    const name = (choice as { function?: { name?: unknown } }).function?.name;
    if (typeof name === 'string') return { tool: { name } };
  }
  return undefined;
}

function holdsToolBlocks(messages: ConverseMessage[]): boolean {
  return messages.some((message) => message.content.some((block) => 'toolUse' in block || 'toolResult' in block));
}
