import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../support/backends.ts';
import { type RunningTollgate, startTollgate } from '../support/tollgate.ts';

/**
 * A property-based fuzzer over the bodies of every front door. Whatever a caller sends, the
 * answer is a success, a 4xx, or a provider's 5xx — never Tollgate's own 500; every error is a
 * well-formed body in the door's dialect and carries no stack trace or internal message; and
 * the server still serves a normal request afterwards.
 */
const CHAT = readFileSync(new URL('../fixtures/openai/chat-completion.json', import.meta.url), 'utf8');
const STREAM = readFileSync(new URL('../fixtures/openai/chat-completion-stream.txt', import.meta.url), 'utf8');
const RUNS = 200;

/** What only a program's insides say: stack frames, engine errors, file paths. */
const INTERNAL =
  /Maximum call stack|Cannot read propert|Cannot convert|is not a function|is not iterable|is not defined|undefined is not|\bat \S+ \(|node:internal|\.ts:\d+|\.js:\d+|TypeError|RangeError|ReferenceError/;

/** A provider that answers anything, so the fuzzer reaches every layer of Tollgate behind the door. */
function tolerantProvider(): Server {
  return createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk) => chunks.push(chunk));
    request.on('end', () => {
      let stream = false;
      try {
        stream = JSON.parse(Buffer.concat(chunks).toString('utf8')).stream === true;
      } catch {
        // Whatever it was, answer it.
      }
      if (stream) {
        response.writeHead(200, { 'content-type': 'text/event-stream' });
        response.end(STREAM);
      } else {
        response.writeHead(200, { 'content-type': 'application/json' });
        response.end(CHAT);
      }
    });
  });
}

/** Deeply nested arrays and objects, written as text: they cannot be built as values cheaply. */
const deep = fc
  .tuple(fc.integer({ min: 100, max: 30_000 }), fc.boolean())
  .map(([depth, arrays]) =>
    arrays ? `${'['.repeat(depth)}${']'.repeat(depth)}` : `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`,
  );
/** Numbers JSON.stringify cannot write: they overflow to ±Infinity when parsed. */
const hugeNumber = fc.constantFrom('1e999', '-1e999', '1e308', '-0', '0.1e-400', '123456789012345678901234567890');
const oddString = fc.oneof(
  fc.string(),
  fc.constantFrom('\u0000', '\uD800', '\uDFFF', 'a'.repeat(5000), '__proto__', 'constructor', ''),
);
/** Any JSON value, as text. */
const value: fc.Arbitrary<string> = fc.oneof(
  { weight: 4, arbitrary: fc.jsonValue({ maxDepth: 4 }).map((item) => JSON.stringify(item) ?? 'null') },
  { weight: 1, arbitrary: oddString.map((text) => JSON.stringify(text)) },
  { weight: 1, arbitrary: hugeNumber },
  { weight: 1, arbitrary: deep },
);

const role = fc.constantFrom('user', 'assistant', 'system', 'tool', 'developer', 'x');
const content = fc.oneof(
  fc.string().map((item) => JSON.stringify(item)),
  fc
    .array(
      fc.oneof(
        fc.string().map((item) => `{"type":"text","text":${JSON.stringify(item)}}`),
        fc.constant('{"type":"image_url","image_url":{"url":"data:image/png;base64,AAAA"}}'),
        fc.constant('{"type":"image","source":{"type":"base64","media_type":"image/png","data":"AAAA"}}'),
        fc.constant('{"type":"tool_use","id":"t1","name":"f","input":{}}'),
        fc.constant('{"type":"tool_result","tool_use_id":"t1","content":"ok"}'),
        value,
      ),
      { maxLength: 3 },
    )
    .map((items) => `[${items.join(',')}]`),
  value,
);
const message = fc.oneof(
  { weight: 3, arbitrary: fc.constant('{"role":"user","content":"hello"}') },
  { weight: 6, arbitrary: fc.tuple(role, content).map(([who, what]) => `{"role":"${who}","content":${what}}`) },
  { weight: 1, arbitrary: value },
);
const messages = fc.array(message, { minLength: 1, maxLength: 4 }).map((items) => `[${items.join(',')}]`);

/**
 * A body whose fields are each mostly valid, sometimes absent, sometimes anything at all: a
 * body that is all noise stops at the first check, one that is mostly right goes all the way.
 */
function bodyFor(required: Record<string, fc.Arbitrary<string>>, optional: Record<string, fc.Arbitrary<string>>) {
  const member = (name: string, arbitrary: fc.Arbitrary<string>, absent: number) =>
    fc
      .option(fc.oneof({ weight: 6, arbitrary }, { weight: 1, arbitrary: value }), { freq: absent, nil: undefined })
      .map((text) => (text === undefined ? undefined : `"${name}":${text}`));
  const members = [
    ...Object.entries(required).map(([name, arbitrary]) => member(name, arbitrary, 20)),
    ...Object.entries(optional).map(([name, arbitrary]) => member(name, arbitrary, 2)),
  ];
  const extra = fc
    .option(fc.tuple(oddString, value), { freq: 3, nil: undefined })
    .map((pair) => (pair === undefined ? undefined : `${JSON.stringify(pair[0])}:${pair[1]}`));
  const object = fc.tuple(...members, extra).map((parts) => `{${parts.filter(Boolean).join(',')}}`);
  // Now and then, not an object at all, or not JSON.
  return fc.oneof(
    { weight: 18, arbitrary: object },
    { weight: 1, arbitrary: value },
    { weight: 1, arbitrary: fc.string() },
  );
}

const model = fc.constant('"fuzz"');
const count = fc.integer({ min: 1, max: 50 }).map(String);
const stream = fc.constantFrom('true', 'false');
const text = fc.string().map((item) => JSON.stringify(item));

/** Responses API input: a string, or items — messages with any content, function calls and their outputs, anything. */
const item = fc.oneof(
  { weight: 4, arbitrary: message },
  {
    weight: 1,
    arbitrary: fc
      .tuple(role, content)
      .map(
        ([who, what]) =>
          `{"type":"message","role":"${who}","content":${what.replace(/"type":"text"/g, '"type":"input_text"')}}`,
      ),
  },
  { weight: 1, arbitrary: fc.constant('{"type":"function_call","call_id":"c1","name":"f","arguments":"{}"}') },
  {
    weight: 1,
    arbitrary: fc.tuple(content).map(([what]) => `{"type":"function_call_output","call_id":"c1","output":${what}}`),
  },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      '{"type":"reasoning","id":"rs_1","summary":[]}',
      '{"type":"item_reference","id":"msg_1"}',
    ),
  },
);
const input = fc.oneof(
  text,
  fc.array(item, { minLength: 1, maxLength: 4 }).map((items) => `[${items.join(',')}]`),
);

const DOORS = [
  {
    path: '/v1/chat/completions',
    dialect: 'openai' as const,
    body: bodyFor(
      { model, messages },
      {
        max_tokens: count,
        max_completion_tokens: count,
        n: fc.constant('1'),
        stream,
        stream_options: fc.constant('{"include_usage":true}'),
        temperature: fc.constantFrom('0', '0.7', '1'),
        tools: fc.constant('[{"type":"function","function":{"name":"f","parameters":{"type":"object"}}}]'),
        user: text,
      },
    ),
  },
  {
    path: '/v1/messages',
    dialect: 'anthropic' as const,
    body: bodyFor(
      { model, messages, max_tokens: count },
      {
        stream,
        system: text,
        tools: fc.constant('[{"name":"f","input_schema":{"type":"object"}}]'),
        tool_choice: fc.constantFrom('{"type":"auto"}', '{"type":"any"}', '{"type":"tool","name":"f"}'),
        metadata: text.map((id) => `{"user_id":${id}}`),
        stop_sequences: fc.array(text, { maxLength: 3 }).map((items) => `[${items.join(',')}]`),
      },
    ),
  },
  {
    path: '/v1/responses',
    dialect: 'openai' as const,
    body: bodyFor(
      { model, input },
      {
        instructions: text,
        max_output_tokens: count,
        stream,
        tools: fc.constantFrom(
          '[{"type":"function","name":"f","parameters":{"type":"object"}}]',
          '[{"type":"namespace","name":"ns","tools":[{"type":"function","name":"f"}]},{"type":"web_search"}]',
        ),
        tool_choice: fc.constantFrom('"auto"', '"required"', '{"type":"function","name":"f"}'),
        text: fc.constant('{"format":{"type":"json_schema","name":"x","schema":{"type":"object"}}}'),
        reasoning: fc.constant('{"effort":"low"}'),
        previous_response_id: text,
        safety_identifier: text,
      },
    ),
  },
];

describe('door fuzzing', () => {
  let tg: RunningTollgate;
  const provider = tolerantProvider();
  let key: string;
  /** How far the fuzzer got: a run that is all 400s never reached the provider. */
  const statuses = new Map<number, number>();

  beforeAll(async () => {
    await new Promise<void>((resolve) => provider.listen(0, '127.0.0.1', resolve));
    const port = (provider.address() as AddressInfo).port;
    tg = await startTollgate({ dataDir: tempDir() }, { TOLLGATE_UPSTREAM_TIMEOUT_MS: '2000' });
    await tg.admin('POST', '/api/v1/credentials', {
      name: 'tolerant',
      provider: 'openai',
      fields: { apiKey: 'sk-fuzz', baseUrl: `http://127.0.0.1:${port}/v1` },
    });
    const created = await tg.admin('POST', '/api/v1/models', {
      name: 'fuzz',
      targets: [{ credential: 'tolerant', upstreamModel: 'gpt-4o-mini' }],
      inputPrice: 1,
      outputPrice: 2,
    });
    expect(created.status).toBe(201);
    key = (await tg.admin('POST', '/api/v1/keys', { name: 'fuzzer', spendLimit: { allTimeUsd: 1000 } })).body.key;
  }, 30_000);

  afterAll(async () => {
    console.info('door fuzzing, answers by status:', Object.fromEntries(statuses));
    await tg?.close();
    provider.closeAllConnections();
    await new Promise((resolve) => provider.close(resolve));
  });

  async function send(path: string, body: string) {
    const response = await fetch(`${tg.url}${path}`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${key}`,
        'content-type': 'application/json',
        'anthropic-version': '2023-06-01',
      },
      body,
    });
    return { status: response.status, type: response.headers.get('content-type') ?? '', text: await response.text() };
  }

  /** Why this answer is wrong, or undefined when it is right. */
  function problem(dialect: 'openai' | 'anthropic', answer: { status: number; type: string; text: string }) {
    if (INTERNAL.test(answer.text)) return 'internal text reached the caller';
    if (answer.status === 200) return undefined;
    if (answer.status >= 500 && answer.status !== 502 && answer.status !== 504) return `status ${answer.status}`;
    let body: any;
    try {
      body = JSON.parse(answer.text);
    } catch {
      return 'the error body is not JSON';
    }
    if (dialect === 'openai') {
      const error = body?.error;
      const keys = Object.keys(body ?? {});
      if (keys.length !== 1 || typeof error?.message !== 'string' || typeof error?.type !== 'string') {
        return 'not an OpenAI error';
      }
      if (typeof error.code !== 'string' || error.status !== answer.status) return 'OpenAI error without code/status';
      if (answer.status >= 500 && !error.code.startsWith('provider_'))
        return `a ${answer.status} not from the provider`;
    } else if (
      body?.type !== 'error' ||
      typeof body?.error?.type !== 'string' ||
      typeof body?.error?.message !== 'string'
    ) {
      return 'not an Anthropic error';
    }
    return undefined;
  }

  it.each(DOORS)(
    'answers anything sent to $path sanely, in its dialect ($dialect)',
    async (door) => {
      const result = await fc.check(
        fc.asyncProperty(door.body, async (body) => {
          const answer = await send(door.path, body);
          statuses.set(answer.status, (statuses.get(answer.status) ?? 0) + 1);
          const wrong = problem(door.dialect, answer);
          if (wrong) throw new Error(`${wrong}: ${answer.status} ${answer.text.slice(0, 300)}`);
        }),
        { numRuns: RUNS },
      );
      // Reported briefly: a counterexample can be a 30 000-level body.
      if (result.failed) {
        const body = String(result.counterexample?.[0]);
        throw new Error(
          `${(result.errorInstance as Error)?.message}\nbody: ${body.slice(0, 300)}… (${body.length} chars)`,
        );
      }
      const normal =
        door.path === '/v1/responses'
          ? '{"model":"fuzz","input":"hello"}'
          : door.dialect === 'openai'
            ? '{"model":"fuzz","messages":[{"role":"user","content":"hello"}]}'
            : '{"model":"fuzz","max_tokens":10,"messages":[{"role":"user","content":"hello"}]}';
      expect((await send(door.path, normal)).status).toBe(200);
    },
    60_000,
  );

  it.each(DOORS)('refuses a deeply nested body on $path with a 400 that names no internals', async (door) => {
    const nested = `{"model":"fuzz","max_tokens":10,"messages":[{"role":"user","content":"hi","x":${'['.repeat(20_000)}${']'.repeat(20_000)}}]}`;
    const answer = await send(door.path, nested);
    expect(problem(door.dialect, answer)).toBeUndefined();
    expect(answer.status).toBeLessThan(500);
  });
});
