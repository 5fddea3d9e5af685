import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, type ExpectStatic, it } from 'vitest';
import { backends } from './support/backends.ts';
import { FakeAnthropic } from './support/fake-anthropic.ts';
import { FakeAzure } from './support/fake-azure.ts';
import { FakeBedrock } from './support/fake-bedrock.ts';
import { FakeGemini } from './support/fake-gemini.ts';
import { FakeOpenAI } from './support/fake-openai.ts';
import { PARTIAL_CHUNKS, REPORTED, type Scenario, TEXT_CHUNKS, upstreamClosed } from './support/scenarios/scenario.ts';
import { type RunningTollgate, startTollgate } from './support/tollgate.ts';

/**
 * The metering matrix (issue #10): every provider × every front door × every request shape,
 * against fake providers that report distinctive figures (support/scenarios/), asserting each
 * usage record against the metering rules (docs/metering.md) and, after each cell, that the
 * key's spend counter equals the sum of its records with nothing left reserved.
 */

const AWS = {
  accessKeyId: 'AKIAMETERINGMATRIX',
  secretAccessKey: 'fake-aws-secret-metering-matrix',
  region: 'us-east-1',
};

/** Prices set explicitly on every model, USD per million tokens; no two alike, none a catalogue ratio. */
const PRICES = {
  inputPrice: 2,
  outputPrice: 11,
  cachedInputPrice: 0.5,
  cacheWriteInputPrice: 3,
  cacheWrite1hInputPrice: 5,
};

const PROVIDERS = ['openai', 'anthropic', 'gemini', 'bedrock', 'azure'] as const;
type Provider = (typeof PROVIDERS)[number];
const DOORS = ['chat', 'messages', 'responses'] as const;
type Door = (typeof DOORS)[number];

interface Shape {
  name: string;
  scenario: Scenario;
  stream: boolean;
}

const SHAPES: Shape[] = [
  { name: 'plain', scenario: 'plain', stream: false },
  { name: 'stream', scenario: 'plain', stream: true },
  { name: 'tool call', scenario: 'tool', stream: false },
  { name: 'tool call, streamed', scenario: 'tool', stream: true },
  { name: 'cache read', scenario: 'cache-read', stream: false },
  { name: 'cache read, streamed', scenario: 'cache-read', stream: true },
  { name: 'cache write', scenario: 'cache-write', stream: false },
  { name: 'cache write, streamed', scenario: 'cache-write', stream: true },
  { name: 'reasoning', scenario: 'reasoning', stream: false },
  { name: 'reasoning, streamed', scenario: 'reasoning', stream: true },
  { name: 'client abort after some chunks', scenario: 'stall', stream: true },
  { name: 'provider error mid-stream', scenario: 'error', stream: true },
  { name: 'no usage reported', scenario: 'no-usage', stream: false },
  { name: 'no usage reported, streamed', scenario: 'no-usage', stream: true },
];

/**
 * Shapes a provider cannot produce, so their cells are left out:
 * - cache write on OpenAI and Gemini: neither reports (nor bills) cache writes — OpenAI caches
 *   for free, Gemini bills explicit caches apart from the call;
 * - reasoning on Anthropic and Bedrock: thinking is part of the output tokens and neither
 *   reports it apart, so there is no reasoning count to record.
 */
const UNSUPPORTED: Record<Provider, Scenario[]> = {
  openai: ['cache-write'],
  azure: ['cache-write'],
  anthropic: ['reasoning'],
  gemini: ['cache-write'],
  bedrock: ['reasoning'],
};

/** The upstream model each provider's target names (the scenario marker decides the answer). */
const UPSTREAM: Record<Provider, string> = {
  openai: 'gpt-4o',
  azure: 'gpt-4o-deployment',
  anthropic: 'claude-sonnet-4-5',
  gemini: 'gemini-2.5-flash',
  bedrock: 'anthropic.claude-sonnet-4-5-20250929-v1:0',
};

/** What each provider reported before a stream was cut (stall, error): [prompt, output]. */
const REPORTED_BEFORE_CUT: Record<Provider, [number, number] | undefined> = {
  // OpenAI (and Azure) and Bedrock report usage only at the end of a stream.
  openai: undefined,
  azure: undefined,
  bedrock: undefined,
  // Anthropic's message_start: input_tokens and output_tokens 1.
  anthropic: [REPORTED.input, 1],
  // Gemini's usageMetadata on every event, the candidates counted so far.
  gemini: [REPORTED.input, REPORTED.partialOutput],
};

const weatherSchema = { type: 'object' as const, properties: { city: { type: 'string' } }, required: ['city'] };

/** A usage record as GET /api/v1/usage shows it. */
interface UsageRecord {
  status: number;
  errorCode: string | null;
  endpoint: string;
  provider: string | null;
  streamed: boolean;
  promptTokens: number;
  completionTokens: number;
  cachedTokens: number;
  cacheWriteTokens: number;
  cacheWrite1hTokens: number;
  reasoningTokens: number;
  usageSource: string | null;
  costUsd: number;
}

/** What the caller saw. */
interface Seen {
  text: string;
  toolName: string | undefined;
  error: unknown;
  /** `message_start`'s `usage.input_tokens` (messages door streams). */
  announcedInput: number | undefined;
  /** When the client gave up on the stream (stall cells). */
  abortedAt: number | undefined;
  /** The usage the door reported to the caller, in the door's format (a stream's last figures). */
  usage: Record<string, any> | undefined;
}

/** Cost of figures at {@link PRICES}: the record's token classes, each at its price. */
function costOf(tokens: { prompt: number; completion: number; read?: number; write5m?: number; write1h?: number }) {
  const read = tokens.read ?? 0;
  const write5m = tokens.write5m ?? 0;
  const write1h = tokens.write1h ?? 0;
  const plain = tokens.prompt - read - write5m - write1h;
  return (
    (plain * PRICES.inputPrice +
      read * PRICES.cachedInputPrice +
      write5m * PRICES.cacheWriteInputPrice +
      write1h * PRICES.cacheWrite1hInputPrice +
      tokens.completion * PRICES.outputPrice) /
    1e6
  );
}

/** Checks a finished request's record: the provider's figures, each class at its price. */
function expectReported(expect: ExpectStatic, provider: Provider, scenario: Scenario, record: UsageRecord) {
  const read = scenario === 'cache-read' ? REPORTED.cacheRead : 0;
  const write5m = scenario === 'cache-write' ? REPORTED.cacheWrite5m : 0;
  // Only Anthropic tells 1-hour writes apart; Bedrock's writes are billed as 5-minute ones.
  const write1h = scenario === 'cache-write' && provider === 'anthropic' ? REPORTED.cacheWrite1h : 0;
  const prompt = REPORTED.input + read + write5m + write1h;
  expectFields(expect, record, {
    status: 200,
    errorCode: null,
    usageSource: 'reported',
    promptTokens: prompt,
    completionTokens: REPORTED.output,
    cachedTokens: read,
    cacheWriteTokens: write5m + write1h,
    cacheWrite1hTokens: write1h,
    reasoningTokens: scenario === 'reasoning' ? REPORTED.reasoning : 0,
  });
  expectCost(expect, record, costOf({ prompt, completion: REPORTED.output, read, write5m, write1h }));
}

/** Checks the usage the door gave the caller: the provider's figures, in the door's own terms. */
function expectCallerUsage(
  expect: ExpectStatic,
  provider: Provider,
  door: Door,
  scenario: Scenario,
  usage: Record<string, any> | undefined,
) {
  const read = scenario === 'cache-read' ? REPORTED.cacheRead : 0;
  const write5m = scenario === 'cache-write' ? REPORTED.cacheWrite5m : 0;
  const write1h = scenario === 'cache-write' && provider === 'anthropic' ? REPORTED.cacheWrite1h : 0;
  const writes = write5m + write1h;
  const reasoning = scenario === 'reasoning' ? REPORTED.reasoning : 0;
  const fields: Record<string, [unknown, number]> =
    door === 'chat'
      ? {
          prompt_tokens: [usage?.prompt_tokens, REPORTED.input + read + writes],
          completion_tokens: [usage?.completion_tokens, REPORTED.output],
          'prompt_tokens_details.cached_tokens': [usage?.prompt_tokens_details?.cached_tokens ?? 0, read],
          'completion_tokens_details.reasoning_tokens': [
            usage?.completion_tokens_details?.reasoning_tokens ?? 0,
            reasoning,
          ],
        }
      : door === 'messages'
        ? {
            // Anthropic's input_tokens are the input that is neither read from nor written to the cache.
            input_tokens: [usage?.input_tokens, REPORTED.input],
            cache_read_input_tokens: [usage?.cache_read_input_tokens ?? 0, read],
            cache_creation_input_tokens: [usage?.cache_creation_input_tokens ?? 0, writes],
            output_tokens: [usage?.output_tokens, REPORTED.output],
          }
        : {
            input_tokens: [usage?.input_tokens, REPORTED.input + read + writes],
            'input_tokens_details.cached_tokens': [usage?.input_tokens_details?.cached_tokens ?? 0, read],
            output_tokens: [usage?.output_tokens, REPORTED.output],
            'output_tokens_details.reasoning_tokens': [usage?.output_tokens_details?.reasoning_tokens ?? 0, reasoning],
          };
  for (const [field, [actual, expected]] of Object.entries(fields)) {
    expect.soft(actual, `caller's usage.${field}`).toBe(expected);
  }
}

/** Each field checked on its own (soft), so a failing cell lists every field that is wrong. */
function expectFields(expect: ExpectStatic, record: UsageRecord, fields: Partial<UsageRecord>) {
  for (const [field, value] of Object.entries(fields)) {
    expect.soft(record[field as keyof UsageRecord], field).toBe(value);
  }
}

function expectCost(expect: ExpectStatic, record: UsageRecord, cost: number) {
  expect.soft(record.costUsd, 'costUsd').toBeCloseTo(cost, 12);
}

/** Figures Tollgate counted from the short prompt and answer: small, and not the fake's. */
function expectCounted(expect: ExpectStatic, record: UsageRecord) {
  expect.soft(record.usageSource, 'usageSource').toBe('counted');
  expect.soft(record.promptTokens, 'promptTokens (counted)').toBeGreaterThan(0);
  expect.soft(record.promptTokens, 'promptTokens (counted)').toBeLessThan(200);
  expect.soft(record.completionTokens, 'completionTokens (counted)').toBeGreaterThan(0);
  expect.soft(record.completionTokens, 'completionTokens (counted)').toBeLessThan(REPORTED.output);
}

for (const backend of backends()) {
  describe(`metering matrix on ${backend.name}`, () => {
    let tg: RunningTollgate;
    let responsesDoor = false;
    const fakes = {
      openai: new FakeOpenAI('sk-openai-matrix-secret'),
      anthropic: new FakeAnthropic('sk-ant-matrix-secret'),
      gemini: new FakeGemini('gemini-matrix-secret'),
      bedrock: new FakeBedrock(AWS),
      azure: new FakeAzure({
        apiKey: 'azure-matrix-key',
        tenantId: 'tenant-matrix',
        clientId: 'client-matrix',
        clientSecret: 'azure-matrix-client-secret',
      }),
    };
    let cells = 0;

    beforeAll(async () => {
      await Promise.all(Object.values(fakes).map((fake) => fake.start()));
      tg = await startTollgate(await backend.prepare());
      const credentials = [
        { name: 'openai', provider: 'openai', fields: { apiKey: fakes.openai.apiKey, baseUrl: fakes.openai.url } },
        {
          name: 'anthropic',
          provider: 'anthropic',
          fields: { apiKey: fakes.anthropic.apiKey, baseUrl: fakes.anthropic.url },
        },
        { name: 'gemini', provider: 'gemini', fields: { apiKey: fakes.gemini.apiKey, baseUrl: fakes.gemini.url } },
        {
          name: 'bedrock',
          provider: 'bedrock',
          fields: { ...AWS, baseUrl: fakes.bedrock.url },
        },
        {
          name: 'azure',
          provider: 'azure',
          authMethod: 'api-key',
          fields: { apiKey: 'azure-matrix-key', endpoint: fakes.azure.endpoint },
        },
      ];
      for (const credential of credentials) {
        const created = await tg.admin('POST', '/api/v1/credentials', credential);
        if (created.status !== 201) throw new Error(`credential ${credential.name}: ${JSON.stringify(created.body)}`);
      }
      for (const provider of PROVIDERS) {
        const created = await tg.admin('POST', '/api/v1/models', {
          name: `matrix-${provider}`,
          targets: [{ credential: provider, upstreamModel: UPSTREAM[provider] }],
          retries: 0,
          ...PRICES,
        });
        if (created.status !== 201) throw new Error(`model ${provider}: ${JSON.stringify(created.body)}`);
      }
      // The /v1/responses door is being built (issue #10): its cells run once the route exists.
      const probe = await makeKey('probe');
      const answer = await fetch(`${tg.url}/v1/responses`, {
        method: 'POST',
        headers: { authorization: `Bearer ${probe.key}`, 'content-type': 'application/json' },
        body: '{}',
      });
      const text = await answer.text();
      responsesDoor = !(answer.status === 404 && /route/i.test(text));
    }, 60_000);

    afterAll(async () => {
      await tg?.close();
      await Promise.all(Object.values(fakes).map((fake) => fake.close()));
    });

    async function makeKey(name: string): Promise<{ id: string; key: string }> {
      // A spend limit, so the key has a spend counter (and each request a reservation).
      const created = await tg.admin('POST', '/api/v1/keys', { name, spendLimit: { allTimeUsd: 50 } });
      if (created.status !== 201) throw new Error(`key ${name}: ${JSON.stringify(created.body)}`);
      return { id: created.body.id, key: created.body.key };
    }

    async function recordsOf(keyId: string): Promise<UsageRecord[]> {
      const answer = await tg.admin('GET', `/api/v1/usage?key=${keyId}`);
      return answer.body.records as UsageRecord[];
    }

    /** The key's one usage record, once written. */
    async function recordOf(keyId: string): Promise<UsageRecord> {
      const until = Date.now() + 5_000;
      for (;;) {
        const records = await recordsOf(keyId);
        if (records.length > 0 || Date.now() > until) {
          if (records.length !== 1) throw new Error(`expected one usage record, found ${records.length}`);
          return records[0]!;
        }
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
    }

    /** The key's spend counters in the ledger: what was settled and what is still held. */
    function ledgerOf(keyId: string) {
      const counters = tg.tollgate.gateway.ledger.peek(`key:${keyId}`);
      if (!counters) throw new Error(`the ledger holds no counter for key ${keyId}`);
      return counters;
    }

    /** The counter invariant: spend shown, spend counted and the records' sum agree, nothing reserved. */
    async function expectCounterInvariant(expect: ExpectStatic, keyId: string) {
      const records = await recordsOf(keyId);
      const sum = records.reduce((total, record) => total + record.costUsd, 0);
      const shown = await tg.admin('GET', `/api/v1/keys/${keyId}`);
      expect.soft(shown.body.spend?.allTimeUsd ?? 0, 'spend shown = sum of records').toBeCloseTo(sum, 12);
      const ledger = ledgerOf(keyId);
      expect.soft(ledger.reserved, 'spend still reserved').toBe(0);
      expect.soft(ledger.allTimeSpent, 'spend counter = sum of records').toBeCloseTo(sum, 12);
    }

    for (const provider of PROVIDERS) {
      for (const door of DOORS) {
        const shapes = SHAPES.filter((shape) => !UNSUPPORTED[provider].includes(shape.scenario));
        describe.concurrent(`${provider} behind ${door}`, () => {
          it.for(shapes)('$name', async (shape, { expect, skip }) => {
            if (door === 'responses' && !responsesDoor) skip('POST /v1/responses is not served yet');
            cells += 1;
            const cell = `${backend.name}-${provider}-${door}-${shape.name.replace(/\W+/g, '-')}`;
            const { id, key } = await makeKey(`matrix ${cells}`);
            const seen = await callDoor(door, tg.url, key, `matrix-${provider}`, shape, cell);
            const record = await recordOf(id);
            // MATRIX_DEBUG=1 prints each cell's record and what the caller saw.
            if (process.env.MATRIX_DEBUG) console.log(cell, JSON.stringify(record), JSON.stringify(seen));
            expectFields(expect, record, {
              provider,
              streamed: shape.stream,
              endpoint: door === 'chat' ? 'chat.completions' : door,
            });

            switch (shape.scenario) {
              case 'plain':
              case 'tool':
              case 'cache-read':
              case 'cache-write':
              case 'reasoning': {
                expect.soft(seen.error, 'error the caller saw').toBeUndefined();
                if (shape.scenario === 'tool') expect.soft(seen.toolName, 'tool called').toBe('get_weather');
                else expect.soft(seen.text, 'answer text').toBe(TEXT_CHUNKS.join(''));
                expectReported(expect, provider, shape.scenario, record);
                expectCallerUsage(expect, provider, door, shape.scenario, seen.usage);
                break;
              }
              case 'no-usage': {
                expect.soft(seen.error, 'error the caller saw').toBeUndefined();
                expect.soft(seen.text, 'answer text').toBe(TEXT_CHUNKS.join(''));
                expectFields(expect, record, { status: 200, errorCode: null, cachedTokens: 0, cacheWriteTokens: 0 });
                expectCounted(expect, record);
                expectCost(
                  expect,
                  record,
                  costOf({ prompt: record.promptTokens, completion: record.completionTokens }),
                );
                break;
              }
              case 'stall': {
                // The upstream call is aborted at once.
                const closedAt = await Promise.race([
                  upstreamClosed(cell),
                  new Promise<number>((resolve) => setTimeout(() => resolve(Number.POSITIVE_INFINITY), 3_000)),
                ]);
                expect
                  .soft(closedAt - (seen.abortedAt ?? 0), 'upstream closed within 2 s of the abort')
                  .toBeLessThan(2_000);
                expectFields(expect, record, { status: 499, errorCode: 'TG_ERR_CLIENT_CLOSED' });
                const reported = REPORTED_BEFORE_CUT[provider];
                if (reported) {
                  // What the provider reported before the abort: its prompt count, and at least its output so far.
                  expect.soft(record.promptTokens, 'promptTokens').toBe(reported[0]);
                  expect.soft(record.completionTokens, 'completionTokens').toBeGreaterThanOrEqual(reported[1]);
                } else {
                  // Nothing reported: the prompt and the output already streamed, counted.
                  expectCounted(expect, record);
                }
                expect.soft(record.costUsd, 'costUsd, never $0').toBeGreaterThan(0);
                expectCost(
                  expect,
                  record,
                  costOf({ prompt: record.promptTokens, completion: record.completionTokens }),
                );
                break;
              }
              case 'error': {
                expect.soft(seen.error, 'the caller gets the error').toBeDefined();
                expect.soft(record.status, 'status').toBeGreaterThanOrEqual(400);
                expect.soft(record.status, 'status').not.toBe(499);
                // The provider was reached and answered with an error: not "unreachable".
                expect.soft(record.errorCode, 'errorCode').toMatch(/^TG_ERR_PROVIDER_/);
                expect.soft(record.errorCode, 'errorCode').not.toBe('TG_ERR_PROVIDER_UNREACHABLE');
                if (door !== 'responses') {
                  // In the door's dialect: the official client reads it as its own API error.
                  const dialect = door === 'messages' ? Anthropic.APIError : OpenAI.APIError;
                  expect.soft(seen.error, 'error in the door dialect').toBeInstanceOf(dialect);
                }
                const [prompt, completion] = REPORTED_BEFORE_CUT[provider] ?? [0, 0];
                expectFields(expect, record, { promptTokens: prompt, completionTokens: completion });
                expectCost(expect, record, costOf({ prompt, completion }));
                break;
              }
            }
            const translated = provider !== 'anthropic';
            if (door === 'messages' && shape.stream && translated && shape.scenario !== 'error') {
              // A translated message_start announces the prompt tokens, never 0 (LangChain reads them only there).
              expect.soft(seen.announcedInput, 'message_start usage.input_tokens').toBeGreaterThan(0);
            }
            await expectCounterInvariant(expect, id);
          });
        });
      }
    }

    it('the models carry the prices the matrix set', async ({ expect }) => {
      const models = await tg.admin('GET', '/api/v1/models');
      for (const provider of PROVIDERS) {
        const model = (models.body.models as Array<Record<string, unknown>>).find(
          (item) => item.name === `matrix-${provider}`,
        );
        expect(model).toMatchObject(PRICES);
      }
    });
  });
}

/** The prompt: the scenario marker and the cell's name, then an ordinary question. */
const promptOf = (shape: Shape, cell: string) =>
  `tg-scenario:${shape.scenario} tg-cell:${cell} What does the toll on the north bridge cost today?`;

/** Calls a front door with its official client, as a user would; reports what the caller saw. */
async function callDoor(door: Door, url: string, key: string, model: string, shape: Shape, cell: string) {
  const seen: Seen = {
    text: '',
    toolName: undefined,
    error: undefined,
    announcedInput: undefined,
    abortedAt: undefined,
    usage: undefined,
  };
  const abort = new AbortController();
  // A stalled stream is given up on after PARTIAL_CHUNKS text chunks (or 3 s, whatever came).
  const stall = shape.scenario === 'stall';
  const giveUp = stall ? setTimeout(() => stop(), 3_000) : undefined;
  let chunks = 0;
  function stop() {
    if (seen.abortedAt === undefined) seen.abortedAt = Date.now();
    abort.abort();
  }
  const onText = (text: string) => {
    seen.text += text;
    if (text !== '') chunks += 1;
    if (stall && chunks >= PARTIAL_CHUNKS) stop();
  };
  const tool = shape.scenario === 'tool';
  const content = promptOf(shape, cell);
  try {
    if (door === 'chat') {
      const client = new OpenAI({ apiKey: key, baseURL: `${url}/v1`, maxRetries: 0 });
      const body = {
        model,
        messages: [{ role: 'user' as const, content }],
        max_tokens: 1024,
        ...(tool && {
          tools: [
            {
              type: 'function' as const,
              function: { name: 'get_weather', description: 'Weather in a city', parameters: weatherSchema },
            },
          ],
        }),
      };
      if (!shape.stream) {
        const answer = await client.chat.completions.create(body);
        const message = answer.choices[0]?.message;
        seen.text = message?.content ?? '';
        const call = message?.tool_calls?.[0];
        seen.toolName = call?.type === 'function' ? call.function.name : undefined;
        seen.usage = answer.usage;
      } else {
        const stream = await client.chat.completions.create(
          { ...body, stream: true, stream_options: { include_usage: true } },
          { signal: abort.signal },
        );
        for await (const chunk of stream) {
          const delta = chunk.choices[0]?.delta;
          seen.toolName ??= delta?.tool_calls?.[0]?.function?.name;
          if (chunk.usage) seen.usage = chunk.usage;
          onText(delta?.content ?? '');
        }
      }
    } else if (door === 'messages') {
      const client = new Anthropic({ apiKey: key, baseURL: url, maxRetries: 0 });
      const body = {
        model,
        max_tokens: 1024,
        messages: [{ role: 'user' as const, content }],
        ...(tool && {
          tools: [{ name: 'get_weather', description: 'Weather in a city', input_schema: weatherSchema }],
        }),
      };
      if (!shape.stream) {
        const answer = await client.messages.create(body);
        for (const block of answer.content) {
          if (block.type === 'text') seen.text += block.text;
          if (block.type === 'tool_use') seen.toolName ??= block.name;
        }
        if (tool) seen.text = '';
        seen.usage = answer.usage;
      } else {
        const stream = await client.messages.create({ ...body, stream: true }, { signal: abort.signal });
        for await (const event of stream) {
          if (event.type === 'message_start') {
            seen.announcedInput = event.message.usage?.input_tokens;
            seen.usage = { ...event.message.usage };
          }
          if (event.type === 'message_delta') {
            // message_delta's figures are cumulative: they replace message_start's where given.
            const given = Object.entries(event.usage ?? {}).filter(([, value]) => value != null);
            seen.usage = { ...seen.usage, ...Object.fromEntries(given) };
          }
          if (event.type === 'content_block_start' && event.content_block.type === 'tool_use') {
            seen.toolName ??= event.content_block.name;
          }
          if (event.type === 'content_block_delta' && event.delta.type === 'text_delta') onText(event.delta.text);
        }
      }
    } else {
      const client = new OpenAI({ apiKey: key, baseURL: `${url}/v1`, maxRetries: 0 });
      const body = {
        model,
        input: content,
        max_output_tokens: 1024,
        store: false,
        ...(tool && {
          tools: [
            {
              type: 'function' as const,
              name: 'get_weather',
              description: 'Weather in a city',
              parameters: weatherSchema,
              strict: false,
            },
          ],
        }),
      };
      if (!shape.stream) {
        const answer = await client.responses.create(body);
        seen.text = answer.output_text;
        for (const item of answer.output) if (item.type === 'function_call') seen.toolName ??= item.name;
        seen.usage = answer.usage ?? undefined;
      } else {
        const stream = client.responses.stream(body, { signal: abort.signal });
        for await (const event of stream) {
          if (event.type === 'response.output_text.delta') onText(event.delta);
          if (event.type === 'response.output_item.added' && event.item.type === 'function_call') {
            seen.toolName ??= event.item.name;
          }
          if (event.type === 'response.completed') seen.usage = event.response.usage ?? undefined;
          if (event.type === 'error' || event.type === 'response.failed') seen.error ??= event;
        }
      }
    }
  } catch (error) {
    if (!(stall && abort.signal.aborted)) seen.error = error;
  } finally {
    clearTimeout(giveUp);
  }
  return seen;
}
