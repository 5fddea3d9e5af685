import { describe, expect, it } from 'vitest';
import {
  checkChatRequest,
  checkEmbeddingsRequest,
  checkMessagesRequest,
  checkModelName,
  checkNesting,
  MAX_NESTING,
} from './request-checks.ts';

const refusal = (detail: RegExp) =>
  expect.objectContaining({ code: 'TG_ERR_INVALID_REQUEST', message: expect.stringMatching(detail) });

function thrown(check: () => void): unknown {
  try {
    check();
  } catch (error) {
    return error;
  }
  return undefined;
}

describe('door checks', () => {
  it('takes whole counts in range, and null for "not set"', () => {
    expect(() => checkChatRequest({ max_tokens: 1, max_completion_tokens: 1_000_000, n: 128, seed: -5 })).not.toThrow();
    expect(() => checkChatRequest({ max_tokens: null, n: null })).not.toThrow();
    expect(() => checkMessagesRequest({ max_tokens: 10, top_k: 0 })).not.toThrow();
    expect(() => checkEmbeddingsRequest({ dimensions: 256 })).not.toThrow();
  });

  it.each([
    -1,
    0,
    0.5,
    1_000_001,
    Number.NaN,
    Number.POSITIVE_INFINITY,
    Number.NEGATIVE_INFINITY,
    '10',
    [10],
    {},
    true,
  ])('refuses %s as an output cap, naming the field', (value) => {
    for (const field of ['max_tokens', 'max_completion_tokens', 'max_output_tokens']) {
      expect(thrown(() => checkChatRequest({ [field]: value }))).toEqual(
        refusal(new RegExp(`"${field}" must be a whole number`)),
      );
    }
    expect(thrown(() => checkMessagesRequest({ max_tokens: value }))).toEqual(refusal(/"max_tokens"/));
  });

  it('requires max_tokens on the Anthropic door, and a finite number everywhere else', () => {
    expect(thrown(() => checkMessagesRequest({}))).toEqual(refusal(/"max_tokens" is required/));
    expect(thrown(() => checkChatRequest({ temperature: Number.NEGATIVE_INFINITY }))).toEqual(
      refusal(/"temperature" must be a finite number/),
    );
    expect(thrown(() => checkEmbeddingsRequest({ dimensions: 0 }))).toEqual(refusal(/"dimensions"/));
  });

  it('takes any well-formed model name up to 256 characters, astral characters included', () => {
    expect(checkModelName('gpt-4o')).toBe('gpt-4o');
    expect(checkModelName('🦜'.repeat(128))).toBe('🦜'.repeat(128));
    for (const bad of ['', 'a\u0000b', 'a\uD800', '\uDC00a', 'm'.repeat(257), 42, null]) {
      expect(thrown(() => checkModelName(bad))).toEqual(refusal(/"model"/));
    }
  });

  it('refuses unstorable end-user ids and metadata', () => {
    expect(thrown(() => checkChatRequest({ user: 'a\u0000' }))).toEqual(refusal(/"user" must not contain NUL/));
    expect(thrown(() => checkChatRequest({ metadata: { a: '\uD83D' } }))).toEqual(refusal(/"metadata.a"/));
    expect(thrown(() => checkMessagesRequest({ max_tokens: 1, metadata: { user_id: 'x'.repeat(513) } }))).toEqual(
      refusal(/"metadata.user_id" must be at most 512/),
    );
  });

  it(`refuses a body nested deeper than ${MAX_NESTING} levels, without recursing`, () => {
    let deep: unknown = 1;
    for (let i = 0; i < 100_000; i++) deep = [deep];
    expect(thrown(() => checkNesting({ x: deep }))).toEqual(refusal(/nested more than 128 levels/));
    let fine: unknown = 1;
    for (let i = 0; i < MAX_NESTING - 1; i++) fine = { a: fine };
    expect(() => checkNesting(fine)).not.toThrow();
  });
});
