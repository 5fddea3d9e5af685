import { hashApiKey, isWellFormedApiKey } from '../../crypto/api-keys.ts';
import { TollgateError } from '../../errors.ts';
import type { KeyCache, KeyEntry } from './key-cache.ts';

/** The key a request presents: `Authorization: Bearer <key>` or `x-api-key: <key>`. */
export function presentedKey(headers: Record<string, string | string[] | undefined>): string | undefined {
  const authorization = headers.authorization;
  if (typeof authorization === 'string' && authorization.length > 7) {
    const space = authorization.indexOf(' ');
    if (space > 0 && authorization.slice(0, space).toLowerCase() === 'bearer') {
      return authorization.slice(space + 1).trim();
    }
  }
  const apiKey = headers['x-api-key'];
  return typeof apiKey === 'string' && apiKey.length > 0 ? apiKey.trim() : undefined;
}

function check(entry: KeyEntry | undefined, now: number): KeyEntry {
  if (!entry) throw new TollgateError('TG_ERR_KEY_UNKNOWN');
  if (entry.status === 'revoked') throw new TollgateError('TG_ERR_KEY_REVOKED');
  if (entry.status === 'disabled') throw new TollgateError('TG_ERR_KEY_DISABLED');
  if (entry.expiresAt !== null && entry.expiresAt <= now) {
    throw new TollgateError('TG_ERR_KEY_EXPIRED', new Date(entry.expiresAt).toISOString());
  }
  return entry;
}

/**
 * Resolves the caller's key or throws the 401 that says why. Malformed keys are refused by
 * checksum alone; known keys are answered from memory.
 */
export async function authenticate(
  keys: KeyCache,
  headers: Record<string, string | string[] | undefined>,
  now = Date.now(),
): Promise<KeyEntry> {
  const key = presentedKey(headers);
  if (!key) throw new TollgateError('TG_ERR_KEY_MISSING');
  if (!isWellFormedApiKey(key)) throw new TollgateError('TG_ERR_KEY_MALFORMED');
  const found = keys.get(hashApiKey(key));
  return check(found instanceof Promise ? await found : found, now);
}
