import { describe, expect, it } from 'vitest';
import { InMemorySpendLedger, type LimitedScope } from '../../coord/spend-ledger.ts';
import { TollgateError } from '../../errors.ts';
import type { SpendLimit } from '../../store/schema.ts';
import type { GatewayContext } from '../context.ts';
import type { Exchange } from '../exchange.ts';
import type { Target } from '../routing/model-registry.ts';
import {
  CLAUDE_TOOL_PROMPT_TOKENS,
  cacheWriteTtl,
  countedPromptBound,
  countPromptTokens,
  IMAGE_TOKENS,
  promptTokenPrice,
  tokenizerFamily,
} from './prompt-bound.ts';
import { COUNT_BELOW_WORST_CASES, reserveSpend } from './spend-reservation.ts';

const T0 = Date.parse('2026-01-01T00:00:00Z');
/** $1 per million input tokens, $2 per million output tokens. */
const PRICES = { input: 1, output: 2, cachedInput: null };

const target = (upstreamModel: string, provider = 'openai') => ({ provider, upstreamModel }) as Target;

function scope(limit: SpendLimit, spent = 0): LimitedScope {
  return {
    id: `key:${Math.random()}`,
    label: 'key "k"',
    limit,
    version: JSON.stringify(limit),
    loadSpent: async () => ({ allTime: spent, since: spent }),
  };
}

interface Setup {
  ledger: InMemorySpendLedger;
  ctx: GatewayContext;
  scope: LimitedScope;
}

function setup(limit: SpendLimit, spent = 0): Setup {
  const ledger = new InMemorySpendLedger();
  const keyScope = scope(limit, spent);
  const ctx = { ledger, clock: () => T0, scopeLimits: { get: () => undefined } } as unknown as GatewayContext;
  return { ledger, ctx, scope: keyScope };
}

/** An exchange for `body` as the OpenAI door admits it, served by `upstreamModel`. */
function exchangeFor(
  setup: Setup,
  body: Record<string, unknown>,
  upstreamModel = 'gpt-4o-mini',
  prices: Record<string, unknown> = PRICES,
): Exchange {
  const text = JSON.stringify(body);
  return {
    key: { spendScope: setup.scope, ownerUserId: null, projectId: null, orgId: 'org' },
    model: { prices, maxOutputTokens: null },
    request: { headers: { 'content-length': String(Buffer.byteLength(text)) }, body },
    targets: [target(upstreamModel)],
    grantedMaxTokens: undefined,
    reservation: undefined,
  } as unknown as Exchange;
}

/** Words of one token each (o200k_base), as the fake provider counts them too. */
const WORDS = 'time year people way day man thing woman life child world school state family student'.split(' ');
/** A prompt of `words` ordinary words: about 6 bytes per token in the body. */
const prompt = (words: number) => Array.from({ length: words }, (_, i) => WORDS[i % WORDS.length]).join(' ');
const chat = (words: number, extra: Record<string, unknown> = {}) => ({
  model: 'm',
  messages: [{ role: 'user', content: prompt(words) }],
  max_tokens: 10,
  ...extra,
});

async function reserve(s: Setup, body: Record<string, unknown>, upstreamModel?: string) {
  const exchange = exchangeFor(s, body, upstreamModel);
  await reserveSpend(s.ctx, exchange, body, true);
  return exchange;
}

describe('tokenizer families', () => {
  it('knows o200k models, Claude generations, Gemini, and treats the rest as other', () => {
    const family = (model: string, provider?: string) => tokenizerFamily(target(model, provider)).name;
    for (const model of [
      'gpt-4o',
      'gpt-4o-mini',
      'gpt-4.1-nano',
      'gpt-5',
      'o3-mini',
      'o1',
      'openai/gpt-4o',
      'gpt-oss-120b',
    ])
      expect(family(model), model).toBe('openai');
    for (const model of [
      'claude-3-5-sonnet-20240620',
      'claude-3-opus-20240229',
      'claude-sonnet-4-20250514',
      'claude-opus-4-1',
      'claude-haiku-4-5-20251001',
      'us.anthropic.claude-3-7-sonnet-20250219-v1:0',
      'claude-opus-4-6',
    ])
      expect(family(model, 'anthropic'), model).toBe('claude');
    for (const model of ['claude-opus-4-7', 'claude-sonnet-5', 'claude-next'])
      expect(family(model, 'anthropic'), model).toBe('claude-4.7');
    expect(family('gemini-2.5-flash', 'gemini')).toBe('gemini');
    for (const model of ['gpt-4', 'gpt-3.5-turbo', 'llama3.1:8b', 'mistral-large-latest', 'my-azure-deployment'])
      expect(family(model), model).toBe('other');
  });
});

describe('counting the prompt', () => {
  it('counts chat text with OpenAI framing, images at their largest size', () => {
    const text = 'The quick brown fox jumps over the lazy dog.';
    expect(countPromptTokens({ messages: [{ role: 'user', content: text }] })).toBe(10 + 3 + 1 + 3);
    const withImage = countPromptTokens({
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text },
            { type: 'image_url', image_url: { url: `data:image/png;base64,${'A'.repeat(100_000)}` } },
          ],
        },
      ],
    });
    expect(withImage).toBe(10 + 3 + 1 + 3 + IMAGE_TOKENS);
  });

  it('does not count what it cannot (files, audio, unknown shapes)', () => {
    expect(
      countPromptTokens({ messages: [{ role: 'user', content: [{ type: 'file', file: { file_data: 'x' } }] }] }),
    ).toBeUndefined();
    expect(countPromptTokens({ messages: [{ role: 'user', content: { weird: true } }] })).toBeUndefined();
    expect(countPromptTokens({ prompt: 'legacy' })).toBeUndefined();
  });

  it('counts embeddings input', () => {
    expect(countPromptTokens({ input: 'hello world' })).toBe(2);
    expect(countPromptTokens({ input: [1, 2, 3] })).toBe(3);
    expect(countPromptTokens({ input: [{ image: 'x' }] })).toBeUndefined();
  });

  it('applies the largest margin among the targets, and Claude’s hidden tool prompt', () => {
    const body = { messages: [{ role: 'user', content: prompt(100) }] };
    const counted = countPromptTokens(body) as number;
    expect(countedPromptBound(body, [target('gpt-4o')])).toBe(counted);
    expect(countedPromptBound(body, [target('gpt-4o'), target('gemini-2.0-flash', 'gemini')])).toBe(
      Math.ceil(counted * 1.25),
    );
    expect(countedPromptBound(body, [target('claude-sonnet-4-5', 'anthropic')])).toBe(Math.ceil(counted * 1.35));
    const tools = [{ type: 'function', function: { name: 'f', parameters: { type: 'object' } } }];
    const withTools = { ...body, tools };
    expect(countedPromptBound(withTools, [target('claude-sonnet-4-5', 'anthropic')])).toBe(
      Math.ceil((countPromptTokens(withTools) as number) * 1.35) + CLAUDE_TOOL_PROMPT_TOKENS,
    );
  });

  it('prices a prompt that writes a cache at the cache-write price', () => {
    const prices = { input: 3, cacheWriteInput: 3.75, cacheWrite1hInput: 6 };
    expect(promptTokenPrice(prices, undefined)).toBe(3);
    expect(promptTokenPrice(prices, '5m')).toBe(3.75);
    expect(promptTokenPrice(prices, '1h')).toBe(6);
    expect(promptTokenPrice({ input: 3 }, '1h')).toBe(3);
    expect(cacheWriteTtl({ messages: [{ role: 'user', content: 'x' }] })).toBeUndefined();
    expect(
      cacheWriteTtl({
        system: [{ type: 'text', text: 's', cache_control: { type: 'ephemeral' } }],
        messages: [
          { role: 'user', content: [{ type: 'text', text: 'x', cache_control: { type: 'ephemeral', ttl: '1h' } }] },
        ],
      }),
    ).toBe('1h');
    expect(cacheWriteTtl({ tools: [{ name: 't', cache_control: { type: 'ephemeral' } }] })).toBe('5m');
  });
});

describe('reserveSpend', () => {
  /** What the fake provider bills for `chat(words)`: each word one token, 10 output tokens. */
  const actualCost = (words: number) => (words * PRICES.input + 10 * PRICES.output) / 1e6;

  it('keeps the byte bound while the budget has plenty of room (no counting on the hot path)', async () => {
    const s = setup({ allTimeUsd: 100 });
    const body = chat(100);
    const exchange = await reserve(s, body);
    const bytes = Buffer.byteLength(JSON.stringify(body));
    expect(exchange.reservation?.amount).toBeCloseTo((bytes * PRICES.input + 10 * PRICES.output) / 1e6, 12);
  });

  it('counts the prompt when the byte bound does not fit, and serves the budget’s tail', async () => {
    const body = chat(100);
    const bytes = Buffer.byteLength(JSON.stringify(body));
    const counted = countPromptTokens(body) as number;
    expect(bytes).toBeGreaterThan(5 * counted);
    expect(counted).toBe(100 + 7);
    // Room for the counted bound, not for the byte bound.
    const room = (counted * PRICES.input + 10 * PRICES.output) / 1e6 + 1e-7;
    const s = setup({ allTimeUsd: 1 + room }, 1);
    const exchange = await reserve(s, body);
    expect(exchange.reservation?.amount).toBeCloseTo((counted * PRICES.input + 10 * PRICES.output) / 1e6, 12);
    expect(exchange.reservation?.amount).toBeGreaterThanOrEqual(actualCost(100));
    expect(exchange.grantedMaxTokens).toBeUndefined();
  });

  it('refuses, naming the limit, what even the counted bound cannot pay', async () => {
    const body = chat(100);
    const counted = countPromptTokens(body) as number;
    const s = setup({ allTimeUsd: 1 + (counted * PRICES.input) / 1e6 - 1e-9 }, 1);
    const refusal = await reserve(s, body).catch((error: unknown) => error);
    expect(refusal).toBeInstanceOf(TollgateError);
    expect((refusal as TollgateError).message).toMatch(/key "k" has spent \$1\.00 of its \$1\.00 all-time limit/);
  });

  it('serves close to what a burst can afford: at least 28 of 100 against a limit for 32', async () => {
    const words = 100;
    const limit = 32 * actualCost(words) + actualCost(words) / 2;
    const s = setup({ allTimeUsd: limit });
    const held: Exchange[] = [];
    for (let i = 0; i < 100; i++) {
      const exchange = await reserve(s, chat(words)).catch(() => undefined);
      if (exchange) held.push(exchange);
    }
    expect(held.length).toBeGreaterThanOrEqual(28);
    expect(held.length).toBeLessThanOrEqual(32);
    const reserved = held.reduce((sum, exchange) => sum + (exchange.reservation?.amount ?? 0), 0);
    expect(reserved).toBeLessThanOrEqual(limit + 1e-12);
    // Every reservation still bounds what the call can cost.
    for (const exchange of held) expect(exchange.reservation?.amount).toBeGreaterThanOrEqual(actualCost(words));
  });

  it('starts counting once fewer than COUNT_BELOW_WORST_CASES byte-bound worst cases fit', async () => {
    const body = chat(100);
    const bytes = Buffer.byteLength(JSON.stringify(body));
    const worst = (bytes * PRICES.input + 10 * PRICES.output) / 1e6;
    const plenty = setup({ allTimeUsd: COUNT_BELOW_WORST_CASES * worst * 1.01 });
    expect((await reserve(plenty, body)).reservation?.amount).toBeCloseTo(worst, 12);
    const tight = setup({ allTimeUsd: COUNT_BELOW_WORST_CASES * worst * 0.99 });
    expect((await reserve(tight, body)).reservation?.amount).toBeLessThan(worst / 3);
  });

  it('without max_tokens, grants the output the budget affords after the counted prompt', async () => {
    const body = { model: 'm', messages: [{ role: 'user', content: prompt(100) }] };
    const counted = countPromptTokens(body) as number;
    // Room for the counted prompt and 50 output tokens.
    const s = setup({ allTimeUsd: (counted * PRICES.input + 50 * PRICES.output + 0.5) / 1e6 });
    const exchange = await reserve(s, body);
    expect(exchange.grantedMaxTokens).toBe(50);
  });

  it('uses a family margin where o200k is not the model’s tokenizer', async () => {
    const body = chat(100);
    const counted = countPromptTokens(body) as number;
    const s = setup({ allTimeUsd: 1 }, 1 - 0.001);
    const exchange = await reserve(s, body, 'claude-sonnet-4-5');
    expect(exchange.reservation?.amount).toBeCloseTo((Math.ceil(counted * 1.35) + 10 * 2) / 1e6, 12);
  });

  it('prices a prompt that writes a cache at the model’s cache-write price', async () => {
    const prices = { ...PRICES, cacheWriteInput: 1.25, cacheWrite1hInput: 2 };
    const cached = {
      model: 'm',
      messages: [{ role: 'user', content: [{ type: 'text', text: 'x', cache_control: { type: 'ephemeral' } }] }],
      max_tokens: 10,
    };
    const bytes = Buffer.byteLength(JSON.stringify(cached));
    const s = setup({ allTimeUsd: 100 });
    const exchange = exchangeFor(s, cached, 'claude-sonnet-4-5', prices);
    await reserveSpend(s.ctx, exchange, cached, true);
    expect(exchange.reservation?.amount).toBeCloseTo((bytes * 1.25 + 10 * 2) / 1e6, 12);
    const plain = chat(10);
    const other = exchangeFor(s, plain, 'claude-sonnet-4-5', prices);
    await reserveSpend(s.ctx, other, plain, true);
    expect(other.reservation?.amount).toBeCloseTo((Buffer.byteLength(JSON.stringify(plain)) + 20) / 1e6, 12);
  });

  it('keeps the byte bound for prompts it cannot count', async () => {
    const body = {
      model: 'm',
      messages: [
        {
          role: 'user',
          content: [{ type: 'file', file: { file_data: `data:application/pdf;base64,${'A'.repeat(400)}` } }],
        },
      ],
      max_tokens: 10,
    };
    const bytes = Buffer.byteLength(JSON.stringify(body));
    const s = setup({ allTimeUsd: 1 }, 1 - (bytes + 20.5) / 1e6);
    const exchange = await reserve(s, body);
    expect(exchange.reservation?.amount).toBeCloseTo((bytes + 20) / 1e6, 12);
  });
});
