import { createHash, randomBytes } from 'node:crypto';
import { crc32 } from 'node:zlib';

/**
 * Tollgate API keys: `tg_` + 43 base62 characters of randomness (256 bits) + 6 base62
 * characters of CRC-32 over the rest. The prefix lets secret scanners find leaked keys; the
 * checksum rejects a mistyped key before any lookup. Only the SHA-256 of a key is stored: a key
 * carries 256 bits of entropy, so a slow password hash would add latency and no safety.
 */
export const KEY_PREFIX = 'tg_';
const ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const BODY_LENGTH = 43;
const CHECKSUM_LENGTH = 6;
export const KEY_LENGTH = KEY_PREFIX.length + BODY_LENGTH + CHECKSUM_LENGTH;
const KEY_SHAPE = new RegExp(`^${KEY_PREFIX}[0-9A-Za-z]{${BODY_LENGTH + CHECKSUM_LENGTH}}$`);

function base62(value: bigint, length: number): string {
  let out = '';
  let rest = value;
  for (let i = 0; i < length; i++) {
    out = ALPHABET[Number(rest % 62n)] + out;
    rest /= 62n;
  }
  return out;
}

function checksum(body: string): string {
  return base62(BigInt(crc32(body)), CHECKSUM_LENGTH);
}

export function generateApiKey(): string {
  const body = base62(BigInt(`0x${randomBytes(32).toString('hex')}`), BODY_LENGTH);
  return `${KEY_PREFIX}${body}${checksum(KEY_PREFIX + body)}`;
}

/** True when the text has a Tollgate key's shape and a matching checksum. */
export function isWellFormedApiKey(key: string): boolean {
  if (key.length !== KEY_LENGTH || !KEY_SHAPE.test(key)) return false;
  const cut = KEY_LENGTH - CHECKSUM_LENGTH;
  return checksum(key.slice(0, cut)) === key.slice(cut);
}

export function hashApiKey(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

/** What may be shown of a key after creation: prefix and last four characters. */
export function previewApiKey(key: string): string {
  return `${KEY_PREFIX}…${key.slice(-4)}`;
}
