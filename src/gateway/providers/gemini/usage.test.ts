import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { usageFromOpenAI } from '../../metering/cost.ts';
import { chatResponse } from './response.ts';
import { usageOf } from './usage.ts';

const fixture = (name: string) => readFileSync(new URL(`../../../../test/fixtures/gemini/${name}`, import.meta.url));

describe('Gemini usage', () => {
  it('adds thoughts to the output (Gemini counts them apart from the candidates) and records them as reasoning', () => {
    const { body, usage } = chatResponse(fixture('generate-content.json'), 'gemini');
    expect(usage).toEqual({ promptTokens: 10, completionTokens: 35, cachedTokens: 0, reasoningTokens: 27 });
    expect(body.usage).toMatchObject({ completion_tokens: 35, completion_tokens_details: { reasoning_tokens: 27 } });
    expect(usageFromOpenAI(body.usage as never)).toEqual(usage);
  });

  it('keeps cached tokens inside the prompt, as promptTokenCount does, and tool-use prompts as input', () => {
    expect(
      usageOf({
        promptTokenCount: 141_236,
        cachedContentTokenCount: 140_000,
        toolUsePromptTokenCount: 64,
        candidatesTokenCount: 95,
        thoughtsTokenCount: 25,
        totalTokenCount: 141_420,
      }),
    ).toEqual({ promptTokens: 141_300, completionTokens: 120, cachedTokens: 140_000, reasoningTokens: 25 });
  });

  it('reads no reasoning when there are no thoughts, and nothing from a malformed count', () => {
    expect(usageOf({ promptTokenCount: 8, candidatesTokenCount: 2, thoughtsTokenCount: Number.NaN })).toEqual({
      promptTokens: 8,
      completionTokens: 2,
      cachedTokens: 0,
    });
  });
});
