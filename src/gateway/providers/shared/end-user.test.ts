import { describe, expect, it } from 'vitest';
import { anthropicMessagesDoor } from '../../doors/anthropic-messages/index.ts';
import { messagesToChat } from '../../translate/anthropic-messages.ts';
import type { ChatRequest } from '../adapter.ts';
import { toAnthropicRequest } from '../anthropic/request.ts';
import { toBedrockRequest } from '../bedrock/request.ts';
import { toGeminiRequest } from '../gemini/request.ts';
import { ANTHROPIC_USER_ID_MAX, fitUserId, OPENAI_USER_ID_MAX } from './end-user.ts';

/** What Claude Code sends as `metadata.user_id`: a JSON string of about 150 characters. */
const CLAUDE_CODE_USER_ID = JSON.stringify({
  device_id: 'f3b1c2d4e5a6978812345678901234567890abcdef1234567890abcdef123456',
  account_uuid: '7c9e6679-7425-40de-944b-e07fc1f90ae7',
  session_id: '1b4e28ba-2fa1-11d2-883f-0016d3cca427',
});

describe('fitUserId', () => {
  it('keeps an id that fits', () => {
    expect(fitUserId('user-42', OPENAI_USER_ID_MAX)).toBe('user-42');
    expect(fitUserId('x'.repeat(64), OPENAI_USER_ID_MAX)).toBe('x'.repeat(64));
  });

  it('turns a longer one into a stable short hash', () => {
    expect(CLAUDE_CODE_USER_ID.length).toBeGreaterThan(140);
    const fitted = fitUserId(CLAUDE_CODE_USER_ID, OPENAI_USER_ID_MAX);
    expect(fitted).toMatch(/^tg_[0-9a-f]{32}$/);
    expect(fitUserId(CLAUDE_CODE_USER_ID, OPENAI_USER_ID_MAX)).toBe(fitted);
    expect(fitUserId(`${CLAUDE_CODE_USER_ID} `, OPENAI_USER_ID_MAX)).not.toBe(fitted);
    expect(fitUserId('x'.repeat(65), OPENAI_USER_ID_MAX)).toMatch(/^tg_[0-9a-f]{32}$/);
  });
});

describe("an end-user id within each provider's limit", () => {
  const anthropicBody = {
    model: 'gpt-4o',
    max_tokens: 16,
    metadata: { user_id: CLAUDE_CODE_USER_ID },
    messages: [{ role: 'user', content: 'Hi' }],
  };

  it("Claude Code's user_id through the Anthropic door becomes a chat user OpenAI takes", () => {
    const chat = anthropicMessagesDoor.toChat(anthropicBody);
    expect(chat.user).toBe(fitUserId(CLAUDE_CODE_USER_ID, OPENAI_USER_ID_MAX));
    expect(String(chat.user).length).toBeLessThanOrEqual(OPENAI_USER_ID_MAX);
    expect(anthropicMessagesDoor.toChat({ ...anthropicBody, metadata: { user_id: 'user-7' } }).user).toBe('user-7');
  });

  it("a chat user longer than Anthropic's cap is hashed into metadata.user_id", () => {
    const long = 'u'.repeat(ANTHROPIC_USER_ID_MAX + 1);
    const chat = { model: 'claude', messages: [{ role: 'user', content: 'Hi' }] };
    expect(toAnthropicRequest({ ...chat, user: long }, false).metadata).toEqual({
      user_id: fitUserId(long, ANTHROPIC_USER_ID_MAX),
    });
    expect(toAnthropicRequest({ ...chat, user: CLAUDE_CODE_USER_ID }, false).metadata).toEqual({
      user_id: CLAUDE_CODE_USER_ID,
    });
  });

  it('Gemini and Bedrock, which have no such field, are not sent it', () => {
    const chat: ChatRequest = { ...messagesToChat(anthropicBody), model: 'm' };
    expect(JSON.stringify(toGeminiRequest(chat))).not.toContain(String(chat.user));
    expect(JSON.stringify(toBedrockRequest(chat))).not.toContain(String(chat.user));
  });
});
