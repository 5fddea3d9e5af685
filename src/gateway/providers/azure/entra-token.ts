import { createHash } from 'node:crypto';
import { fetch } from 'undici';
import { upstreamAgent } from '../../upstream.ts';
import type { ResolvedCredential } from '../types.ts';
import { AzureCredentialError } from './errors.ts';
import { ENTRA_DEFAULT_AUTHORITY, ENTRA_DEFAULT_SCOPE } from './spec.ts';

/** Refresh this long before expiry (or at half the lifetime, for short-lived tokens). */
const REFRESH_MARGIN_MS = 5 * 60_000;
/** A token this close to expiry is not handed out any more, even if a refresh failed. */
const EXPIRY_SAFETY_MS = 10_000;
/** After a failed background refresh, wait this long before trying again. */
const RETRY_AFTER_FAILURE_MS = 10_000;
const DEFAULT_TIMEOUT_MS = 10_000;

interface Token {
  value: string;
  /** Epoch milliseconds. */
  expiresAt: number;
  refreshAt: number;
  usableUntil: number;
}

interface Entry {
  /** Hash of everything the token depends on: an edited credential gets a new token. */
  fingerprint: string;
  token: Token | undefined;
  pending: Promise<Token> | undefined;
  retryAt: number;
}

interface EntraParams {
  name: string;
  tokenUrl: string;
  clientId: string;
  clientSecret: string;
  scope: string;
}

export interface EntraTokenCacheOptions {
  /** Milliseconds since the epoch; tests inject a clock they can move. */
  now?: () => number;
  /** Time allowed for the token endpoint to answer. */
  timeoutMs?: number;
}

function setting(credential: ResolvedCredential, name: string): string {
  return credential.settings[name]?.trim() ?? '';
}

function params(credential: ResolvedCredential): EntraParams {
  const name = credential.name;
  const tenantId = setting(credential, 'tenantId');
  const clientId = setting(credential, 'clientId');
  const clientSecret = credential.secrets.clientSecret ?? '';
  const missing = [!tenantId && 'tenantId', !clientId && 'clientId', !clientSecret && 'clientSecret'].filter(Boolean);
  if (missing.length > 0) {
    throw new AzureCredentialError(
      'misconfigured',
      `Azure credential "${name}" (entra) is missing ${missing.join(', ')}`,
    );
  }
  if (!/^[A-Za-z0-9.-]+$/.test(tenantId)) {
    throw new AzureCredentialError(
      'misconfigured',
      `Azure credential "${name}": tenantId must be a directory (tenant) ID or domain name`,
    );
  }
  const authority = (setting(credential, 'authorityHost') || ENTRA_DEFAULT_AUTHORITY).replace(/\/+$/, '');
  if (!/^https?:\/\/[^\s/]+/.test(authority)) {
    throw new AzureCredentialError(
      'misconfigured',
      `Azure credential "${name}": authorityHost must be an https:// URL`,
    );
  }
  return {
    name,
    tokenUrl: `${authority}/${encodeURIComponent(tenantId)}/oauth2/v2.0/token`,
    clientId,
    clientSecret,
    scope: setting(credential, 'scope') || ENTRA_DEFAULT_SCOPE,
  };
}

function fingerprint(p: EntraParams): string {
  return createHash('sha256')
    .update(JSON.stringify([p.tokenUrl, p.clientId, p.clientSecret, p.scope]))
    .digest('hex');
}

/** Removes the secret, in any encoding it may have been echoed in, from text meant for logs. */
function redact(text: string, secret: string): string {
  let out = text;
  for (const form of new Set([
    secret,
    encodeURIComponent(secret),
    new URLSearchParams({ s: secret }).toString().slice(2),
  ])) {
    if (form) out = out.split(form).join('[redacted]');
  }
  return out;
}

/** Entra's own explanation: `error` and the first line of `error_description` (AADSTS code and text). */
async function entraReason(response: { json(): Promise<unknown> }): Promise<string> {
  try {
    const body = (await response.json()) as { error?: unknown; error_description?: unknown };
    const code = typeof body.error === 'string' ? body.error : '';
    const description =
      typeof body.error_description === 'string' ? (body.error_description.split(/\r?\n/)[0] ?? '') : '';
    return [code, description].filter(Boolean).join(': ').slice(0, 400) || 'no details given';
  } catch {
    return 'no details given';
  }
}

/**
 * Entra ID access tokens for Azure credentials that use client credentials, one per credential,
 * held in memory. A token is refreshed about five minutes before it expires (half-way through,
 * if it lives less than ten minutes); until then every call gets it without I/O. While a refresh
 * runs, callers keep the still-valid token; concurrent callers without a usable token share one
 * request. A refresh that fails while the old token is still valid is retried a little later.
 */
export class EntraTokenCache {
  readonly #entries = new Map<string, Entry>();
  readonly #now: () => number;
  readonly #timeoutMs: number;

  constructor(options: EntraTokenCacheOptions = {}) {
    this.#now = options.now ?? Date.now;
    this.#timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  }

  /** An access token for the credential, fetched or refreshed when needed. */
  async token(credential: ResolvedCredential): Promise<string> {
    const p = params(credential);
    const print = fingerprint(p);
    let entry = this.#entries.get(credential.id);
    if (!entry || entry.fingerprint !== print) {
      entry = { fingerprint: print, token: undefined, pending: undefined, retryAt: 0 };
      this.#entries.set(credential.id, entry);
    }
    const now = this.#now();
    const current = entry.token;
    if (current && now < current.refreshAt) return current.value;
    if (current && now < current.usableUntil) {
      // Refresh behind the caller's back; the current token is good for a while yet.
      if (!entry.pending && now >= entry.retryAt) {
        this.#refresh(credential.id, entry, p).catch(() => {
          entry.retryAt = this.#now() + RETRY_AFTER_FAILURE_MS;
        });
      }
      return current.value;
    }
    return (await (entry.pending ?? this.#refresh(credential.id, entry, p))).value;
  }

  /** Drops the cached token of a credential (e.g. when it is deleted). */
  forget(credentialId: string): void {
    this.#entries.delete(credentialId);
  }

  clear(): void {
    this.#entries.clear();
  }

  #refresh(id: string, entry: Entry, p: EntraParams): Promise<Token> {
    const pending = this.#fetch(p).then((token) => {
      if (this.#entries.get(id) === entry) entry.token = token;
      return token;
    });
    entry.pending = pending;
    const settle = () => {
      if (entry.pending === pending) entry.pending = undefined;
    };
    pending.then(settle, settle);
    return pending;
  }

  async #fetch(p: EntraParams): Promise<Token> {
    const started = this.#now();
    let response: Awaited<ReturnType<typeof fetch>>;
    try {
      // Through the provider connection pool, so the token endpoint gets the same address guard.
      response = await fetch(p.tokenUrl, {
        dispatcher: upstreamAgent,
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
        body: new URLSearchParams({
          grant_type: 'client_credentials',
          client_id: p.clientId,
          client_secret: p.clientSecret,
          scope: p.scope,
        }).toString(),
        signal: AbortSignal.timeout(this.#timeoutMs),
      });
    } catch (error) {
      const timedOut = (error as Error).name === 'TimeoutError';
      const cause = (error as { cause?: { code?: unknown } }).cause;
      const detail = timedOut
        ? `no answer within ${this.#timeoutMs} ms`
        : typeof cause?.code === 'string'
          ? cause.code
          : (error as Error).message;
      throw new AzureCredentialError(
        'unreachable',
        redact(
          `Azure credential "${p.name}": the Entra ID token endpoint ${new URL(p.tokenUrl).origin} could not be reached (${detail})`,
          p.clientSecret,
        ),
      );
    }
    if (!response.ok) {
      const reason = redact(await entraReason(response), p.clientSecret);
      const rejected = response.status === 400 || response.status === 401 || response.status === 403;
      throw new AzureCredentialError(
        rejected ? 'rejected' : 'unreachable',
        rejected
          ? `Azure credential "${p.name}": Entra ID refused the client credentials (HTTP ${response.status}) — check tenantId, clientId and clientSecret: ${reason}`
          : `Azure credential "${p.name}": the Entra ID token endpoint failed with HTTP ${response.status}: ${reason}`,
        response.status,
      );
    }
    let body: { access_token?: unknown; expires_in?: unknown };
    try {
      body = (await response.json()) as typeof body;
    } catch {
      body = {};
    }
    const lifetimeMs = Number(body.expires_in) * 1000;
    if (typeof body.access_token !== 'string' || body.access_token === '' || !(lifetimeMs > 0)) {
      throw new AzureCredentialError(
        'invalid-response',
        `Azure credential "${p.name}": the Entra ID token endpoint answered without access_token and expires_in`,
        response.status,
      );
    }
    return {
      value: body.access_token,
      expiresAt: started + lifetimeMs,
      refreshAt: started + lifetimeMs - Math.min(REFRESH_MARGIN_MS, lifetimeMs / 2),
      usableUntil: started + lifetimeMs - Math.min(EXPIRY_SAFETY_MS, lifetimeMs / 10),
    };
  }
}
