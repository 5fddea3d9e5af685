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

type Json = Record<string, any>;

/** Frames one ConverseStream event or exception (fake-bedrock.ts's encoders). */
export interface BedrockFraming {
  event(type: string, payload: unknown): Uint8Array;
  exception(type: string, message: string): Uint8Array;
}

/**
 * Bedrock's usage for a scenario: `inputTokens` excludes cache reads and writes, which come
 * apart (`cacheReadInputTokens`, `cacheWriteInputTokens`; Converse does not tell write lives
 * apart). Reasoning is part of `outputTokens` and not reported apart.
 */
export function bedrockUsage(scenario: Scenario): Json {
  const read = scenario === 'cache-read' ? REPORTED.cacheRead : 0;
  const write = scenario === 'cache-write' ? REPORTED.cacheWrite5m : 0;
  return {
    inputTokens: REPORTED.input,
    outputTokens: REPORTED.output,
    totalTokens: REPORTED.input + read + write + REPORTED.output,
    ...(read > 0 && { cacheReadInputTokens: read }),
    ...(write > 0 && { cacheWriteInputTokens: write }),
  };
}

/** The message of the `throttlingException` a scenario stream breaks with. */
export const BEDROCK_STREAM_ERROR = 'Too many requests, please wait before trying again.';

/** Answers Converse / ConverseStream in the given scenario. */
export async function serveBedrockScenario(
  scenario: Scenario,
  body: Json,
  stream: boolean,
  response: ServerResponse,
  framing: BedrockFraming,
): Promise<void> {
  const toolName = firstToolName((body.toolConfig?.tools ?? []).map((tool: Json) => tool?.toolSpec?.name));
  const toolCall = scenario === 'tool';
  const noUsage = scenario === 'no-usage';
  const toolUse = { toolUseId: 'tooluse_scenario1', name: toolName };
  const headers = { 'x-amzn-requestid': '6f1c0c2e-0000-4000-8000-scenario0001' };

  if (!stream) {
    const content = toolCall
      ? [{ toolUse: { ...toolUse, input: JSON.parse(TOOL_ARGUMENTS.join('')) } }]
      : [{ text: TEXT_CHUNKS.join('') }];
    const answer = {
      output: { message: { role: 'assistant', content } },
      stopReason: toolCall ? 'tool_use' : 'end_turn',
      ...(!noUsage && { usage: bedrockUsage(scenario) }),
      metrics: { latencyMs: 321 },
    };
    response.writeHead(200, { 'content-type': 'application/json', ...headers });
    response.end(JSON.stringify(answer));
    return;
  }

  const frames: Uint8Array[] = [framing.event('messageStart', { role: 'assistant' })];
  if (toolCall) {
    frames.push(
      framing.event('contentBlockStart', { contentBlockIndex: 0, start: { toolUse } }),
      ...TOOL_ARGUMENTS.map((input) =>
        framing.event('contentBlockDelta', { contentBlockIndex: 0, delta: { toolUse: { input } } }),
      ),
    );
  } else {
    frames.push(
      ...TEXT_CHUNKS.map((text) => framing.event('contentBlockDelta', { contentBlockIndex: 0, delta: { text } })),
    );
  }
  frames.push(
    framing.event('contentBlockStop', { contentBlockIndex: 0 }),
    framing.event('messageStop', { stopReason: toolCall ? 'tool_use' : 'end_turn' }),
  );
  if (!noUsage) frames.push(framing.event('metadata', { usage: bedrockUsage(scenario), metrics: { latencyMs: 321 } }));

  response.writeHead(200, { 'content-type': 'application/vnd.amazon.eventstream', ...headers });
  const cut = scenario === 'stall' || scenario === 'error' ? 1 + PARTIAL_CHUNKS : frames.length;
  for (const frame of frames.slice(0, cut)) {
    if (response.destroyed) return;
    response.write(frame);
    await sleep(CHUNK_GAP_MS);
  }
  if (scenario === 'stall') return stallUntilClosed(response);
  response.end(scenario === 'error' ? framing.exception('throttlingException', BEDROCK_STREAM_ERROR) : undefined);
}
