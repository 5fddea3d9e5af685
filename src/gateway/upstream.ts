import dns, { type LookupAddress, type LookupAllOptions } from 'node:dns';
import { Agent, buildConnector, type Dispatcher, errors as undiciErrors } from 'undici';
import { TollgateError } from '../errors.ts';
import type { HttpCall } from './providers/adapter.ts';
import type { Target } from './routing/model-registry.ts';
import { isRefusedAddress, isRefusedHost, RefusedUpstreamAddress } from './upstream-address.ts';

/**
 * The DNS lookup every provider connection uses: a name that resolves to a refused address
 * (link-local, cloud metadata) fails here, on the very lookup the socket connects with, so a
 * name that resolved elsewhere when the credential was saved (DNS rebinding) gains nothing.
 */
function guardedLookup(
  hostname: string,
  options: LookupAllOptions,
  callback: (error: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void,
): void {
  dns.lookup(hostname, options, (error, address: string | LookupAddress[], family?: number) => {
    if (error) return callback(error, address, family);
    const addresses = Array.isArray(address) ? address.map((entry) => entry.address) : [address];
    if (addresses.some(isRefusedAddress)) return callback(new RefusedUpstreamAddress(hostname), address, family);
    callback(null, address, family);
  });
}

const connector = buildConnector({ lookup: guardedLookup } as buildConnector.BuildOptions);

/** One connection pool for every provider; keep-alive saves a handshake per request. */
export const upstreamAgent = new Agent({
  keepAliveTimeout: 30_000,
  keepAliveMaxTimeout: 600_000,
  connections: 256,
  // An IP literal is never looked up, so it is checked here; names are checked by the lookup.
  connect: (options, callback) => {
    if (isRefusedHost(options.hostname)) callback(new RefusedUpstreamAddress(options.hostname), null);
    else connector(options, callback);
  },
});

export interface UpstreamCall {
  target: Target;
  call: HttpCall;
  signal: AbortSignal;
  timeoutMs: number;
}

/**
 * Sends one call to a provider and returns its response once the status line and headers are
 * in. A provider failure becomes the catalogue error that says what went wrong; the provider's
 * credential is never part of any message.
 */
export async function sendUpstream(call: UpstreamCall): Promise<Dispatcher.ResponseData> {
  const { target } = call;
  const { url, headers, body } = call.call;
  let response: Dispatcher.ResponseData;
  try {
    const { origin } = new URL(url);
    response = await upstreamAgent.request({
      origin,
      path: url.slice(origin.length),
      method: 'POST',
      headers,
      body,
      signal: call.signal,
      headersTimeout: call.timeoutMs,
      bodyTimeout: call.timeoutMs,
    });
  } catch (error) {
    throw connectionFailure(error, target, call.timeoutMs);
  }
  if (response.statusCode >= 400) throw await statusFailure(response, target);
  return response;
}

export function connectionFailure(error: unknown, target: Target, timeoutMs: number): TollgateError {
  if (error instanceof TollgateError) return error;
  if (error instanceof RefusedUpstreamAddress) {
    return new TollgateError('TG_ERR_PROVIDER_UNREACHABLE', target.provider, error.message);
  }
  if (
    error instanceof undiciErrors.HeadersTimeoutError ||
    error instanceof undiciErrors.BodyTimeoutError ||
    error instanceof undiciErrors.ConnectTimeoutError
  ) {
    return new TollgateError('TG_ERR_PROVIDER_TIMEOUT', target.provider, timeoutMs);
  }
  const code = (error as { code?: string }).code ?? (error as Error).name ?? 'unknown error';
  return new TollgateError('TG_ERR_PROVIDER_UNREACHABLE', target.provider, code);
}

/** The provider's own error message, if it sent one; at most 500 characters. */
function providerMessage(payload: Uint8Array, target: Target): string {
  try {
    return target.adapter.errorMessage(payload)?.slice(0, 500) || 'no details given';
  } catch {
    return 'no details given';
  }
}

/**
 * A provider's error status as the caller should see it: the provider refusing our credential
 * is the administrator's problem (502), not the caller's; a 429 keeps its retry-after; a
 * rejected request keeps the provider's message; anything else is a provider failure.
 */
async function statusFailure(response: Dispatcher.ResponseData, target: Target): Promise<TollgateError> {
  const status = response.statusCode;
  const payload = new Uint8Array(await response.body.arrayBuffer().catch(() => new ArrayBuffer(0)));
  if (status === 401 || status === 403 || target.adapter.isCredentialError?.(status, payload)) {
    return new TollgateError('TG_ERR_PROVIDER_AUTH', target.provider, target.credential.name);
  }
  if (status === 429) {
    const header = response.headers['retry-after'];
    const retryAfter = typeof header === 'string' ? header : target.adapter.retryAfter?.(payload);
    const error = new TollgateError('TG_ERR_PROVIDER_RATE_LIMITED', target.provider);
    return retryAfter ? error.withHeaders({ 'retry-after': retryAfter }) : error;
  }
  if (status === 400 || status === 413 || status === 422) {
    return new TollgateError('TG_ERR_PROVIDER_REJECTED', target.provider, providerMessage(payload, target));
  }
  return new TollgateError('TG_ERR_PROVIDER_ERROR', target.provider, status);
}
