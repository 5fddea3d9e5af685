import { createHash } from 'node:crypto';

/** OpenAI's cap on `user` and `safety_identifier` (longer is a 400). */
export const OPENAI_USER_ID_MAX = 64;
/** Anthropic's cap on `metadata.user_id`. */
export const ANTHROPIC_USER_ID_MAX = 256;

/**
 * An end-user id that fits a provider's cap: as given when it fits; otherwise `tg_` and the first
 * 32 hex digits of its SHA-256. The hash is stable, so the provider still sees one user per id
 * (what the field is for: abuse tracking), and a long id — Claude Code sends a ~150-character
 * JSON string naming the device, account and session — does not travel. Gemini and Bedrock take
 * no such field: their adapters drop it.
 */
export function fitUserId(id: string, max: number): string {
  if (id.length <= max) return id;
  return `tg_${createHash('sha256').update(id).digest('hex').slice(0, 32)}`;
}
