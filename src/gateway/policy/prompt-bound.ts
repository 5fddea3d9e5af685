import { countChatTokens, countEmbeddingTokens, countTextTokens } from '../metering/token-count.ts';
import type { Target } from '../routing/model-registry.ts';

/**
 * Prompt tokens an image may cost, at most, on any provider: OpenAI's tiles stay below 1,500
 * (gpt-4o) and its patches below 3,800 (gpt-4.1-nano's 1,536 patches × 2.46); Claude up to
 * Opus 4.6 about 1,600 (≤ 1.15 MP ÷ 750), Opus 4.7's larger images about 5,000 (3.75 MP ÷ 750);
 * Gemini 258 per 768-pixel tile. Without decoding the image, assume the largest.
 */
export const IMAGE_TOKENS = 5000;

/**
 * Tokens Anthropic adds, unseen in the request, when a Claude model is given tools: its tool-use
 * system prompt (346 tokens for Claude 4 with `tool_choice` auto, 313 with any/tool; see
 * "Tool use with Claude", pricing). Rounded up.
 */
export const CLAUDE_TOOL_PROMPT_TOKENS = 600;

/**
 * How a model family's tokenizer compares with o200k_base, the one Tollgate carries: the
 * counted prompt is multiplied by the family's margin so that it stays at or above what the
 * provider will bill. Figures and sources are in docs/limits-and-rules.md.
 */
export interface TokenizerFamily {
  name: 'openai' | 'claude' | 'claude-4.7' | 'gemini' | 'other';
  margin: number;
}

const FAMILIES = {
  /** o200k_base itself: exact for gpt-4o, gpt-4.1, gpt-4.5, gpt-5, the o-series and gpt-oss. */
  openai: { name: 'openai', margin: 1 },
  /** Claude 3 to Opus 4.6: 16 % (English) to 30 % (code) more tokens than gpt-4o's tokenizer. */
  claude: { name: 'claude', margin: 1.35 },
  /** Claude Opus 4.7 and later: a new tokenizer, 1.0–1.35× the tokens of the one before. */
  'claude-4.7': { name: 'claude-4.7', margin: 1.8 },
  /** Gemini and Gemma (SentencePiece): about 5–15 % more than o200k_base for English. */
  gemini: { name: 'gemini', margin: 1.25 },
  /** Anything else (Llama, Mistral, Qwen, DeepSeek, older OpenAI models on cl100k_base…). */
  other: { name: 'other', margin: 1.5 },
} as const satisfies Record<string, TokenizerFamily>;

const O200K = /(?:^|[/.:])(?:gpt-4o|chatgpt-4o|gpt-4\.1|gpt-4\.5|gpt-5|o[134](?:$|-)|gpt-oss|codex-)/i;
/** `claude-3-5-sonnet…`, `claude-3-opus…`: the generation before the tier. */
const CLAUDE_OLD_STYLE = /claude-(\d+)(?:[-.](\d)(?!\d))?-(?:opus|sonnet|haiku)/i;
/** `claude-opus-4-7`, `claude-sonnet-4-20250514`: the tier before the generation. */
const CLAUDE_NEW_STYLE = /claude-(?:opus|sonnet|haiku)-(\d+)(?:[-.](\d)(?!\d))?/i;

/** The tokenizer family of the model a target serves, judged from its upstream model id. */
export function tokenizerFamily(target: Pick<Target, 'provider' | 'upstreamModel'>): TokenizerFamily {
  const model = target.upstreamModel;
  if (/claude/i.test(model)) {
    const version = CLAUDE_OLD_STYLE.exec(model) ?? CLAUDE_NEW_STYLE.exec(model);
    if (!version) return FAMILIES['claude-4.7'];
    const major = Number(version[1]);
    const minor = Number(version[2] ?? 0);
    return major < 4 || (major === 4 && minor < 7) ? FAMILIES.claude : FAMILIES['claude-4.7'];
  }
  if (/gemini|gemma/i.test(model)) return FAMILIES.gemini;
  if (O200K.test(model)) return FAMILIES.openai;
  return FAMILIES.other;
}

/** Hidden tokens a target adds to a prompt with tools. */
export function toolPromptTokens(target: Pick<Target, 'provider' | 'upstreamModel'>): number {
  return tokenizerFamily(target).name.startsWith('claude') ? CLAUDE_TOOL_PROMPT_TOKENS : 0;
}

const hasTools = (body: Record<string, unknown>) =>
  (Array.isArray(body.tools) && body.tools.length > 0) || (Array.isArray(body.functions) && body.functions.length > 0);

/** The most hidden tool-prompt tokens any of the targets adds to this body. */
export function hiddenPromptTokens(body: Record<string, unknown>, targets: readonly Target[]): number {
  if (!hasTools(body)) return 0;
  let most = 0;
  for (const target of targets) most = Math.max(most, toolPromptTokens(target));
  return most;
}

/** Text parts and images are counted; anything else (audio, files) leaves the prompt uncounted. */
function countableContent(content: unknown): { images: number; imageTokensCounted: number } | undefined {
  if (content === undefined || content === null || typeof content === 'string') {
    return { images: 0, imageTokensCounted: 0 };
  }
  if (!Array.isArray(content)) return undefined;
  let images = 0;
  let imageTokensCounted = 0;
  for (const part of content as Array<Record<string, unknown>>) {
    if (!part || typeof part !== 'object') return undefined;
    if (part.type === 'text' && typeof part.text === 'string') continue;
    if (part.type === 'refusal' && typeof part.refusal === 'string') continue;
    if (part.type === 'image_url') {
      images += 1;
      // What countChatTokens counted for it, to be replaced by IMAGE_TOKENS.
      const detail = (part.image_url as { detail?: unknown } | undefined)?.detail;
      imageTokensCounted += detail === 'low' ? 85 : 765;
      continue;
    }
    return undefined;
  }
  return { images, imageTokensCounted };
}

/**
 * The prompt's tokens counted with o200k_base, before any family margin, or undefined when
 * the body holds something this cannot count (audio, files, an unknown shape): the caller then
 * keeps the byte bound. Chat requests (`messages`, as every door's request becomes) and
 * embeddings requests (`input`) are counted.
 *
 * This runs the tokenizer over the whole prompt: CPU time in proportion to its size (about
 * 2 ms per 10 KB; 0.12 s for 680 KB, measured), which is why `reserveSpend` calls it only when
 * the byte bound does not fit the budget comfortably.
 */
export function countPromptTokens(body: Record<string, unknown>): number | undefined {
  if (Array.isArray(body.messages)) {
    const messages = body.messages as Array<Record<string, unknown>>;
    let images = 0;
    let imageTokensCounted = 0;
    for (const message of messages) {
      if (!message || typeof message !== 'object') return undefined;
      const content = countableContent(message.content);
      if (!content) return undefined;
      images += content.images;
      imageTokensCounted += content.imageTokensCounted;
    }
    let tokens = countChatTokens(messages, '', { tools: body.tools, functions: body.functions }).promptTokens;
    tokens += images * IMAGE_TOKENS - imageTokensCounted;
    // A JSON schema the answer must follow is rendered into the prompt.
    if (body.response_format && typeof body.response_format === 'object') {
      tokens += countTextTokens(JSON.stringify(body.response_format));
    }
    return tokens;
  }
  if (body.input !== undefined) {
    const input = body.input;
    const countable =
      typeof input === 'string' ||
      (Array.isArray(input) && input.every((item) => typeof item === 'string' || Array.isArray(item))) ||
      (Array.isArray(input) && input.every((item) => typeof item === 'number'));
    return countable ? countEmbeddingTokens(input) : undefined;
  }
  return undefined;
}

/**
 * An upper bound on the prompt's tokens for whichever of `targets` serves it: the o200k count
 * times the largest family margin among them, plus any hidden tool prompt; undefined when the
 * prompt cannot be counted.
 */
export function countedPromptBound(body: Record<string, unknown>, targets: readonly Target[]): number | undefined {
  const counted = countPromptTokens(body);
  if (counted === undefined) return undefined;
  let margin: number = FAMILIES.other.margin;
  if (targets.length > 0) {
    margin = 1;
    for (const target of targets) margin = Math.max(margin, tokenizerFamily(target).margin);
  }
  return Math.ceil(counted * margin) + hiddenPromptTokens(body, targets);
}

/**
 * Whether the caller marks anything for prompt caching (Anthropic's `cache_control`, on the
 * request, a message, a block or a tool), and for how long: such a prompt may be billed at the
 * cache-write price, dearer than plain input. Walks the body's structure, not its text.
 */
export function cacheWriteTtl(body: unknown): '5m' | '1h' | undefined {
  let found: '5m' | '1h' | undefined;
  const visit = (value: unknown, depth: number): void => {
    if (found === '1h' || depth > 8 || value === null || typeof value !== 'object') return;
    if (Array.isArray(value)) {
      for (const item of value) visit(item, depth + 1);
      return;
    }
    const object = value as Record<string, unknown>;
    const marker = object.cache_control;
    if (marker && typeof marker === 'object')
      found = (marker as { ttl?: unknown }).ttl === '1h' ? '1h' : (found ?? '5m');
    for (const key of ['system', 'messages', 'content', 'tools']) {
      if (key in object) visit(object[key], depth + 1);
    }
  };
  visit(body, 0);
  return found;
}

export interface PromptPrices {
  input: number;
  cacheWriteInput?: number | null;
  cacheWrite1hInput?: number | null;
}

/**
 * The dearest price (USD per million) a prompt token of this request may be billed at: the
 * input price, or the cache-write price when the request marks something for caching.
 */
export function promptTokenPrice(prices: PromptPrices, ttl: '5m' | '1h' | undefined): number {
  if (ttl === undefined) return prices.input;
  const write = ttl === '1h' ? (prices.cacheWrite1hInput ?? prices.cacheWriteInput) : prices.cacheWriteInput;
  return Math.max(prices.input, write ?? 0);
}

/** Whether a cache write costs more than plain input for this model (so a prompt must be looked at). */
export function cacheWritesCostMore(prices: PromptPrices): boolean {
  return (prices.cacheWriteInput ?? 0) > prices.input || (prices.cacheWrite1hInput ?? 0) > prices.input;
}
