/**
 * The error catalogue: every error Tollgate can answer with, declared once with its stable
 * code, HTTP status and message. `docs/errors.md` documents each code; a test keeps the two
 * in sync. Errors are rendered in the caller's dialect by `renderError`.
 */

interface ErrorSpec {
  status: number;
  /** OpenAI-dialect `error.type`. */
  type: string;
  /** Anthropic-dialect `error.type`. */
  anthropicType: string;
  /** Typed per code: `new TollgateError(code, ...)` takes exactly these arguments. */
  message: (...args: never[]) => string;
}

const invalid = { status: 400, type: 'invalid_request_error', anthropicType: 'invalid_request_error' };
const unauthenticated = { status: 401, type: 'authentication_error', anthropicType: 'authentication_error' };
const forbidden = { status: 403, type: 'permission_denied', anthropicType: 'permission_error' };
const notFound = { status: 404, type: 'not_found_error', anthropicType: 'not_found_error' };
const upstream = { status: 502, type: 'api_error', anthropicType: 'api_error' };

export const ERRORS = {
  TG_ERR_KEY_MISSING: {
    ...unauthenticated,
    message: () => 'Missing API key: send it as "Authorization: Bearer <key>" or "x-api-key: <key>"',
  },
  TG_ERR_KEY_MALFORMED: {
    ...unauthenticated,
    message: () => 'Malformed API key: it is not a Tollgate key or it was mistyped (checksum mismatch)',
  },
  TG_ERR_KEY_UNKNOWN: { ...unauthenticated, message: () => 'Invalid API key: no such key (it may have been deleted)' },
  TG_ERR_KEY_DISABLED: {
    ...unauthenticated,
    message: () => 'API key is disabled: an administrator can enable it again',
  },
  TG_ERR_KEY_REVOKED: { ...unauthenticated, message: () => 'API key has been revoked' },
  TG_ERR_KEY_EXPIRED: { ...unauthenticated, message: (at: string) => `API key expired at ${at}` },
  TG_ERR_KEY_FAILURES_THROTTLED: {
    status: 429,
    type: 'rate_limit_error',
    anthropicType: 'rate_limit_error',
    message: (seconds: number) =>
      `Too many requests with unknown API keys from this address; try again in ${seconds} s`,
  },
  TG_ERR_MODEL_NOT_ALLOWED: { ...forbidden, message: (detail: string) => `Access denied: ${detail}` },
  TG_ERR_PROVIDER_NOT_ALLOWED: { ...forbidden, message: (detail: string) => `Access denied: ${detail}` },
  TG_ERR_PRICING_NOT_ALLOWED: { ...forbidden, message: (detail: string) => `Access denied: ${detail}` },
  TG_ERR_SPEND_LIMIT_REACHED: {
    status: 402,
    type: 'insufficient_quota',
    anthropicType: 'billing_error',
    message: (detail: string) => `Spend limit reached: ${detail}`,
  },
  TG_ERR_RATE_LIMITED: {
    status: 429,
    type: 'rate_limit_error',
    anthropicType: 'rate_limit_error',
    message: (detail: string) => `Rate limit reached: ${detail}`,
  },
  TG_ERR_USER_KEY_LIMIT_REACHED: {
    status: 409,
    type: 'conflict_error',
    anthropicType: 'invalid_request_error',
    message: (limit: number) =>
      `This user already has ${limit} API key(s) in the project, the most allowed per user: revoke or delete one first`,
  },
  TG_ERR_INVALID_JSON: { ...invalid, message: (detail: string) => `Request body is not valid JSON: ${detail}` },
  TG_ERR_INVALID_REQUEST: { ...invalid, message: (detail: string) => `Invalid request: ${detail}` },
  TG_ERR_UNSUPPORTED_MEDIA_TYPE: {
    ...invalid,
    status: 415,
    message: (type: string) => `Unsupported content type "${type}": send application/json`,
  },
  TG_ERR_BODY_TOO_LARGE: {
    ...invalid,
    status: 413,
    anthropicType: 'request_too_large',
    message: (limit: number) => `Request body is larger than the ${limit}-byte limit`,
  },
  TG_ERR_MODEL_NOT_FOUND: {
    ...notFound,
    message: (model: string) => `Model ${model} does not exist or is not published on this gateway`,
  },
  TG_ERR_ROUTE_NOT_FOUND: { ...notFound, message: (method: string, url: string) => `No route ${method} ${url}` },
  TG_ERR_NOT_FOUND: { ...notFound, message: (kind: string, ref: string) => `No ${kind} "${ref}"` },
  TG_ERR_CONFLICT: {
    status: 409,
    type: 'conflict_error',
    anthropicType: 'invalid_request_error',
    message: (detail: string) => detail,
  },
  TG_ERR_KEY_LIMIT_REACHED: {
    status: 409,
    type: 'conflict_error',
    anthropicType: 'invalid_request_error',
    message: (project: string, limit: number) =>
      `Project ${project} has reached its limit of ${limit} API keys: delete or revoke one, or raise the project's key limit`,
  },
  TG_ERR_ADMIN_UNAUTHORIZED: {
    ...unauthenticated,
    message: () => 'Admin API requires "Authorization: Bearer <admin token>"',
  },
  TG_ERR_METRICS_UNAUTHORIZED: {
    ...unauthenticated,
    message: () => '/metrics requires "Authorization: Bearer <metrics token>" (TOLLGATE_METRICS_TOKEN)',
  },
  TG_ERR_SIGN_IN_FAILED: { ...unauthenticated, message: () => 'Email or password is wrong' },
  TG_ERR_SIGN_IN_THROTTLED: {
    status: 429,
    type: 'rate_limit_error',
    anthropicType: 'rate_limit_error',
    message: (seconds: number) => `Too many failed sign-in attempts; try again in ${seconds} s`,
  },
  TG_ERR_SIGN_IN_BUSY: {
    status: 503,
    type: 'api_error',
    anthropicType: 'overloaded_error',
    message: () => 'Too many sign-ins are being checked at once; try again in a second',
  },
  TG_ERR_FORBIDDEN: { ...forbidden, message: (detail: string) => `Not allowed: ${detail}` },
  TG_ERR_CSRF: {
    ...forbidden,
    message: () => 'Missing or wrong x-csrf-token header: changes made with a session cookie must send it',
  },
  TG_ERR_SETUP_CLOSED: {
    ...forbidden,
    message: () => 'Set-up is closed: an owner exists, or the set-up link is wrong',
  },
  TG_ERR_PROVIDER_UNREACHABLE: {
    ...upstream,
    message: (provider: string, detail: string) => `Provider ${provider} could not be reached: ${detail}`,
  },
  TG_ERR_PROVIDER_ERROR: {
    ...upstream,
    message: (provider: string, status: number, detail?: string) =>
      detail
        ? `Provider ${provider} answered HTTP ${status} with ${detail}`
        : `Provider ${provider} failed with HTTP ${status}`,
  },
  TG_ERR_PROVIDER_AUTH: {
    ...upstream,
    message: (provider: string, credential: string, problem?: string) =>
      problem
        ? `Provider ${provider} cannot be called with the credential "${credential}" (${problem}): an administrator must update it`
        : `Provider ${provider} rejected the credential "${credential}": an administrator must update it`,
  },
  TG_ERR_UNSUPPORTED_BY_PROVIDER: {
    ...invalid,
    message: (provider: string, detail: string) => `Provider ${provider} cannot take this request: ${detail}`,
  },
  TG_ERR_PROVIDER_REJECTED: {
    ...invalid,
    message: (provider: string, detail: string) => `Provider ${provider} rejected the request: ${detail}`,
  },
  TG_ERR_PROVIDER_RATE_LIMITED: {
    status: 429,
    type: 'rate_limit_error',
    anthropicType: 'rate_limit_error',
    message: (provider: string) => `Provider ${provider} is rate limiting requests; retry later`,
  },
  TG_ERR_PROVIDER_TIMEOUT: {
    status: 504,
    type: 'api_error',
    anthropicType: 'api_error',
    message: (provider: string, ms: number) => `Provider ${provider} did not answer within ${ms} ms`,
  },
  TG_ERR_DEADLINE_EXCEEDED: {
    status: 504,
    type: 'api_error',
    anthropicType: 'api_error',
    message: (ms: number) =>
      `No provider answered within the request's ${ms} ms deadline (retries and fallbacks included)`,
  },
  TG_ERR_CLIENT_CLOSED: {
    status: 499,
    type: 'api_error',
    anthropicType: 'api_error',
    message: () => 'The client closed the connection before the answer was complete',
  },
  TG_ERR_COORDINATION_UNAVAILABLE: {
    status: 503,
    type: 'api_error',
    anthropicType: 'overloaded_error',
    message: (detail: string) => `Limits cannot be checked right now: ${detail}`,
  },
  TG_ERR_DATABASE_UNAVAILABLE: {
    status: 503,
    type: 'api_error',
    anthropicType: 'overloaded_error',
    message: () => 'The database cannot be reached right now; keys this instance already knows are still served',
  },
  TG_ERR_SHUTTING_DOWN: {
    status: 503,
    type: 'api_error',
    anthropicType: 'overloaded_error',
    message: () => 'Tollgate is shutting down; retry on another instance',
  },
  TG_ERR_INTERNAL: {
    status: 500,
    type: 'api_error',
    anthropicType: 'api_error',
    message: (requestId: string) => `Internal error; quote request id ${requestId} when reporting it`,
  },
} satisfies Record<string, ErrorSpec>;

export type ErrorCode = keyof typeof ERRORS;

/** The arguments a code's message takes, e.g. `[provider: string, ms: number]` for a provider timeout. */
export type ErrorArgs<C extends ErrorCode> = Parameters<(typeof ERRORS)[C]['message']>;

/** A code with its message's arguments: what `new TollgateError(...)` takes, checked per code. */
export type ErrorInit = { [C in ErrorCode]: [code: C, ...args: ErrorArgs<C>] }[ErrorCode];

/** An error from the catalogue. Throw it anywhere; the error handler renders it. */
export class TollgateError extends Error {
  readonly status: number;
  /** Extra response headers, e.g. `retry-after`. */
  headers: Record<string, string> | undefined;
  readonly code: ErrorCode;
  constructor(...[code, ...args]: ErrorInit) {
    const message = ERRORS[code].message as (...values: unknown[]) => string;
    super(message(...args));
    this.code = code;
    this.status = ERRORS[code].status;
  }
  withHeaders(headers: Record<string, string>): this {
    this.headers = headers;
    return this;
  }
}

export type Dialect = 'openai' | 'anthropic';

/** `TG_ERR_MODEL_NOT_FOUND` → `model_not_found`: the machine-readable code callers see. */
export function publicCode(code: ErrorCode): string {
  return code.slice('TG_ERR_'.length).toLowerCase();
}

/** Renders an error body in the caller's dialect. */
export function renderError(error: TollgateError, dialect: Dialect): string {
  const spec: ErrorSpec = ERRORS[error.code];
  if (dialect === 'anthropic') {
    return JSON.stringify({ type: 'error', error: { type: spec.anthropicType, message: error.message } });
  }
  return JSON.stringify({
    error: { message: error.message, type: spec.type, code: publicCode(error.code), status: error.status },
  });
}
