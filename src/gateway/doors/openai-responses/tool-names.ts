import { isObject } from './wire.ts';

/**
 * A tool as the Responses API names it: its name, the namespace that groups it (if any), and
 * whether it is a `custom` tool (free-form input, no JSON), whose calls are `custom_tool_call`s.
 */
export interface ToolName {
  name: string;
  namespace?: string;
  custom?: true;
}

/**
 * The request's function and custom tools by the name a chat model sees. Chat has no namespaces
 * (`{type: 'namespace', name, tools: [...]}`, which Codex sends): a namespaced function keeps its
 * own name unless another tool has it, then it is `<namespace>__<name>`. Answers map the name back,
 * so the caller gets its `namespace` on the `function_call`.
 */
export function toolNames(tools: unknown): Map<string, ToolName> {
  const names = new Map<string, ToolName>();
  if (!Array.isArray(tools)) return names;
  for (const tool of tools) {
    if (!isObject(tool) || typeof tool.name !== 'string') continue;
    if (tool.type === 'function') names.set(tool.name, { name: tool.name });
    else if (tool.type === 'custom') names.set(tool.name, { name: tool.name, custom: true });
  }
  for (const group of tools) {
    if (!isObject(group) || group.type !== 'namespace' || !Array.isArray(group.tools)) continue;
    const namespace = String(group.name ?? '');
    for (const tool of group.tools) {
      if (!isObject(tool) || tool.type !== 'function' || typeof tool.name !== 'string') continue;
      const chatName = names.has(tool.name) ? `${namespace}__${tool.name}` : tool.name;
      names.set(chatName, { name: tool.name, namespace });
    }
  }
  return names;
}

/** The chat name of a function the caller names (with its namespace, for a namespaced one). */
export function chatToolName(names: Map<string, ToolName>, name: string, namespace: unknown): string {
  if (typeof namespace !== 'string' || namespace === '') return name;
  for (const [chatName, tool] of names) if (tool.name === name && tool.namespace === namespace) return chatName;
  return `${namespace}__${name}`;
}
