import type { ChatRequest, HttpCall } from '../adapter.ts';
import type { ResolvedCredential } from '../types.ts';
import { toContents } from './contents.ts';
import { geminiEndpoint } from './endpoint.ts';
import { toGenerationConfig } from './generation-config.ts';
import { toFunctionDeclarations, toToolConfig } from './tools.ts';
import type { GenerateContentRequest } from './wire.ts';

/** An OpenAI Chat Completions body → a Gemini `GenerateContentRequest`. Throws what it cannot translate. */
export function toGeminiRequest(body: ChatRequest): GenerateContentRequest {
  const request: GenerateContentRequest = toContents(body.messages);
  const tools = toFunctionDeclarations(body.tools);
  if (tools) {
    request.tools = tools;
    // A tool_choice without tools means nothing to Gemini (and to OpenAI): it is only sent with them.
    const toolConfig = toToolConfig(body.tool_choice);
    if (toolConfig) request.toolConfig = toolConfig;
  }
  const generationConfig = toGenerationConfig(body);
  if (generationConfig) request.generationConfig = generationConfig;
  return request;
}

/** The `generateContent` (or, streaming, `streamGenerateContent?alt=sse`) call for a chat request. */
export async function chatRequest(
  body: ChatRequest,
  credential: ResolvedCredential,
  stream: boolean,
): Promise<HttpCall> {
  const { url, headers } = geminiEndpoint(credential, body.model, stream ? 'streamGenerateContent' : 'generateContent');
  return { url, headers, body: JSON.stringify(toGeminiRequest(body)) };
}
