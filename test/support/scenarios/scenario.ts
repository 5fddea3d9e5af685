import type { ServerResponse } from 'node:http';

/**
 * Scenario control for the fake providers (test/support/fake-*.ts), for the metering matrix:
 * a request whose text holds `tg-scenario:<name>` is answered by that scenario, whatever its
 * model, in the provider's own wire format (whole answer or stream, as the request asks), with
 * the DISTINCTIVE figures of {@link REPORTED}, so a test can tell figures the provider reported
 * from figures Tollgate counted. `tg-cell:<id>` names the request, so a test can wait for the
 * fake to see its connection closed ({@link upstreamClosed}).
 */
export const SCENARIOS = [
  /** Text, with usage. */
  'plain',
  /** A call of the request's first tool, with usage. */
  'tool',
  /** Usage with prompt-cache reads. */
  'cache-read',
  /** Usage with prompt-cache writes (5-minute and, where the provider says so, 1-hour). */
  'cache-write',
  /** Usage with reasoning tokens, reported apart (part of the output). */
  'reasoning',
  /** Streams {@link PARTIAL_CHUNKS} text chunks, then holds the connection until the caller goes. */
  'stall',
  /** Streams {@link PARTIAL_CHUNKS} text chunks, then a provider error event; the stream ends. */
  'error',
  /** Text with no usage at all. */
  'no-usage',
] as const;
export type Scenario = (typeof SCENARIOS)[number];

/** The figures every fake reports, in its own wire terms (see each provider's scenario file). */
export const REPORTED = {
  /** Input tokens that are neither cache reads nor cache writes. */
  input: 1013,
  cacheRead: 211,
  cacheWrite5m: 307,
  /** Only Anthropic tells 1-hour writes apart. */
  cacheWrite1h: 149,
  /** Every output token, reasoning included. */
  output: 97,
  /** Part of `output`. */
  reasoning: 41,
  /**
   * Output reported by a stream cut short (stall, error) in its last usage before the cut, by
   * providers that report usage as they go (Gemini); Anthropic reports 1 in `message_start`.
   */
  partialOutput: 13,
} as const;

/** The text chunks every scenario answers with. */
export const TEXT_CHUNKS = ['Tolls are ', 'paid at ', 'the gate ', 'in full.'];
/** How many text chunks a stalled or failing stream sends first. */
export const PARTIAL_CHUNKS = 2;
/** The tool call's arguments, in two pieces for streams. */
export const TOOL_ARGUMENTS = ['{"city": ', '"Paris"}'];

const MARK = /tg-scenario:([a-z-]+)/;
const CELL = /tg-cell:([A-Za-z0-9_-]+)/;

/** The scenario a request body asks for, if any. */
export function scenarioIn(raw: string): Scenario | undefined {
  const name = MARK.exec(raw)?.[1];
  return (SCENARIOS as readonly string[]).includes(name ?? '') ? (name as Scenario) : undefined;
}

/** The cell id a request body carries, if any. */
export function cellIn(raw: string): string | undefined {
  return CELL.exec(raw)?.[1];
}

const closed = new Map<string, { promise: Promise<number>; resolve: (at: number) => void }>();
function closeEntry(cell: string) {
  let entry = closed.get(cell);
  if (!entry) {
    let resolve!: (at: number) => void;
    const promise = new Promise<number>((done) => {
      resolve = done;
    });
    entry = { promise, resolve };
    closed.set(cell, entry);
  }
  return entry;
}

/** Resolves (with `Date.now()`) when a fake sees the connection of the named cell's request close. */
export function upstreamClosed(cell: string): Promise<number> {
  return closeEntry(cell).promise;
}

/** Notes when the response closes, for {@link upstreamClosed}. */
export function watchClose(raw: string, response: ServerResponse): void {
  const cell = cellIn(raw);
  if (cell) response.once('close', () => closeEntry(cell).resolve(Date.now()));
}

/** Holds until the caller (Tollgate) closes the connection. */
export function stallUntilClosed(response: ServerResponse): Promise<void> {
  if (response.destroyed) return Promise.resolve();
  return new Promise((resolve) => response.once('close', () => resolve()));
}

/**
 * JSON with Python's `json.dumps` spacing (`"usage": {`), as Anthropic's documented streams and
 * several OpenAI-compatible servers send it: usage must be read with a JSON parser, not matched
 * as text. Quotes inside strings are escaped, so an unescaped `":` always ends a key.
 */
export const spaced = (value: unknown) =>
  JSON.stringify(value)
    .replace(/(?<!\\)":/g, '": ')
    .replace(/,"/g, ', "');

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Small pause between streamed events, so chunks reach the caller one by one. */
export const CHUNK_GAP_MS = 5;

/** The name of the request's first tool, from whichever wire format declares it. */
export function firstToolName(names: Array<string | undefined>): string {
  return names.find((name) => typeof name === 'string' && name !== '') ?? 'get_weather';
}

/** The scenario a parsed request body asks for; when there is one, its connection is watched. */
export function takeScenario(body: unknown, response: ServerResponse): Scenario | undefined {
  const raw = JSON.stringify(body) ?? '';
  const scenario = scenarioIn(raw);
  if (scenario) watchClose(raw, response);
  return scenario;
}
