import { unsupported } from '../shared/refusals.ts';
import type { GeminiFunctionDeclaration, GeminiToolConfig, GenerateContentRequest } from './wire.ts';

interface OpenAITool {
  type?: unknown;
  function?: { name?: unknown; description?: unknown; parameters?: unknown };
}

/**
 * OpenAI function tools → one Gemini tool of function declarations. The JSON Schema is passed
 * as `parametersJsonSchema`, which takes JSON Schema as is; Gemini's older `parameters` field
 * takes only an OpenAPI subset and answers 400 to common keywords such as `additionalProperties`
 * or `$ref`, which coding tools send. Non-function tools have no Gemini equivalent and are refused.
 */
export function toFunctionDeclarations(tools: unknown): GenerateContentRequest['tools'] {
  if (!Array.isArray(tools) || tools.length === 0) return undefined;
  const declarations: GeminiFunctionDeclaration[] = (tools as OpenAITool[]).map((tool) => {
    if (tool.type !== undefined && tool.type !== 'function') {
      throw unsupported('gemini', `tools of type "${String(tool.type)}" cannot be sent to Gemini`);
    }
    const name = tool.function?.name;
    if (typeof name !== 'string' || name === '') throw unsupported('gemini', 'every tool needs a function name');
    const declaration: GeminiFunctionDeclaration = { name };
    if (typeof tool.function?.description === 'string') declaration.description = tool.function.description;
    if (tool.function?.parameters !== undefined) declaration.parametersJsonSchema = tool.function.parameters;
    return declaration;
  });
  return [{ functionDeclarations: declarations }];
}

/**
 * `tool_choice` → `toolConfig.functionCallingConfig`: auto → AUTO, none → NONE, required → ANY,
 * a named function → ANY restricted to that name.
 */
export function toToolConfig(choice: unknown): GeminiToolConfig | undefined {
  if (choice === undefined || choice === null) return undefined;
  if (choice === 'auto') return { functionCallingConfig: { mode: 'AUTO' } };
  if (choice === 'none') return { functionCallingConfig: { mode: 'NONE' } };
  if (choice === 'required') return { functionCallingConfig: { mode: 'ANY' } };
  const name = (choice as { function?: { name?: unknown } }).function?.name;
  if (typeof name === 'string' && name !== '') {
    return { functionCallingConfig: { mode: 'ANY', allowedFunctionNames: [name] } };
  }
  throw unsupported(
    'gemini',
    'tool_choice must be "auto", "none", "required" or {"type":"function","function":{"name":…}}',
  );
}
