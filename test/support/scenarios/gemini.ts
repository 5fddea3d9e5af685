import { readFileSync } from 'node:fs';
import type { ServerResponse } from 'node:http';
import {
  CHUNK_GAP_MS,
  firstToolName,
  PARTIAL_CHUNKS,
  REPORTED,
  type Scenario,
  sleep,
  stallUntilClosed,
  TEXT_CHUNKS,
  TOOL_ARGUMENTS,
} from './scenario.ts';

/**
 * A mid-stream error as Google's front end sends it on `alt=sse`: a `data:` event holding the
 * usual `{"error": {code, message, status}}` body instead of a candidate.
 */
const ERROR_EVENT = readFileSync(new URL('../../fixtures/gemini/stream-error-event.txt', import.meta.url), 'utf8')
  .trim()
  .concat('\r\n\r\n');

type Json = Record<string, any>;

/**
 * Gemini's usage for a scenario: `promptTokenCount` includes cached content
 * (`cachedContentTokenCount`); `candidatesTokenCount` excludes thoughts (`thoughtsTokenCount`),
 * so the output is their sum. Gemini reports no cache writes (explicit caches are created and
 * billed apart, implicit ones are free to write).
 */
export function geminiUsage(scenario: Scenario, candidates: number = REPORTED.output): Json {
  const cached = scenario === 'cache-read' ? REPORTED.cacheRead : 0;
  const thoughts = scenario === 'reasoning' ? REPORTED.reasoning : 0;
  const prompt = REPORTED.input + cached;
  return {
    promptTokenCount: prompt,
    candidatesTokenCount: candidates - thoughts,
    totalTokenCount: prompt + candidates,
    ...(cached > 0 && { cachedContentTokenCount: cached }),
    ...(thoughts > 0 && { thoughtsTokenCount: thoughts }),
    promptTokensDetails: [{ modality: 'TEXT', tokenCount: prompt }],
  };
}

/** Answers `generateContent` / `streamGenerateContent?alt=sse` in the given scenario. */
export async function serveGeminiScenario(
  scenario: Scenario,
  body: Json,
  model: string,
  stream: boolean,
  response: ServerResponse,
): Promise<void> {
  const declared = (body.tools ?? []).flatMap((tool: Json) =>
    (tool.functionDeclarations ?? []).map((d: Json) => d.name),
  );
  const toolCall = scenario === 'tool';
  const noUsage = scenario === 'no-usage';
  const callPart = { functionCall: { name: firstToolName(declared), args: JSON.parse(TOOL_ARGUMENTS.join('')) } };
  const candidate = (parts: Json[], finishReason?: string) => ({
    content: { parts, role: 'model' },
    ...(finishReason && { finishReason }),
    index: 0,
  });
  const event = (parts: Json[], usage: Json | undefined, finishReason?: string) => ({
    candidates: [candidate(parts, finishReason)],
    ...(usage && !noUsage && { usageMetadata: usage }),
    modelVersion: model,
    responseId: 'scenario0123456789',
  });

  if (!stream) {
    const parts = toolCall ? [callPart] : [{ text: TEXT_CHUNKS.join('') }];
    response.writeHead(200, { 'content-type': 'application/json; charset=UTF-8' });
    response.end(JSON.stringify(event(parts, geminiUsage(scenario), 'STOP'), null, 2));
    return;
  }

  // Like Google, every event carries the usage so far: the prompt, and the candidates counted up to it.
  const events: Json[] = toolCall
    ? [event([callPart], geminiUsage(scenario), 'STOP')]
    : TEXT_CHUNKS.map((text, at) => {
        const last = at === TEXT_CHUNKS.length - 1;
        const partial = at === PARTIAL_CHUNKS - 1 ? REPORTED.partialOutput : 3 + at;
        return event(
          [{ text }],
          last ? geminiUsage(scenario) : geminiUsage(scenario, partial),
          last ? 'STOP' : undefined,
        );
      });
  response.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
  const cut = scenario === 'stall' || scenario === 'error' ? PARTIAL_CHUNKS : events.length;
  for (const data of events.slice(0, cut)) {
    if (response.destroyed) return;
    response.write(`data: ${JSON.stringify(data)}\r\n\r\n`);
    await sleep(CHUNK_GAP_MS);
  }
  if (scenario === 'stall') return stallUntilClosed(response);
  response.end(scenario === 'error' ? ERROR_EVENT : undefined);
}
