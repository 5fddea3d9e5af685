import { hashApiKey, isWellFormedApiKey } from '../../crypto/api-keys.ts';
import { TollgateError } from '../../errors.ts';
import type { AuthFailures } from './auth-failures.ts';
import type { KeyCache, KeyEntry } from './key-cache.ts';

/** What authentication needs from the gateway's context. */
export interface KeyLookup {
  keys: KeyCache;
  authFailures: AuthFailures;
  clock: () => number;
}

/** The parts of a request authentication reads; `ip` is the client's address. */
export interface Caller {
  headers: Record<string, string | string[] | undefined>;
  ip: string;
}

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
 * checksum alone; known keys are answered from memory. An address that has presented too many
 * unknown keys is refused with 429 before any database work, unless its key is held in memory.
 */
export async function authenticate(ctx: KeyLookup, caller: Caller): Promise<KeyEntry> {
  const now = ctx.clock();
  const key = presentedKey(caller.headers);
  if (!key) throw new TollgateError('TG_ERR_KEY_MISSING');
  if (!isWellFormedApiKey(key)) throw new TollgateError('TG_ERR_KEY_MALFORMED');
  const hash = hashApiKey(key);
  const known = ctx.keys.known(hash);
  if (known) return check(known, now);
  const wait = ctx.authFailures.retryAfter(caller.ip, now);
  if (wait > 0) {
    throw new TollgateError('TG_ERR_KEY_FAILURES_THROTTLED', wait).withHeaders({ 'retry-after': String(wait) });
  }
  const pending = ctx.keys.get(hash);
  const found = pending instanceof Promise ? await pending : pending;
  if (!found) ctx.authFailures.record(caller.ip, now);
  return check(found, now);
}
