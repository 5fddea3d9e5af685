/** The admin REST API as the CLI sees it: one authenticated call, errors as plain messages. */

export const DEFAULT_URL = 'http://localhost:4000';
const TIMEOUT_MS = 30_000;

type Query = Record<string, string | number | boolean | undefined>;

export class AdminClient {
  readonly #token: string;

  constructor(
    readonly baseUrl: string,
    token: string,
  ) {
    this.#token = token;
  }

  /** Reads TOLLGATE_URL and TOLLGATE_ADMIN_TOKEN; throws a message meant for the user. */
  static fromEnv(env: NodeJS.ProcessEnv = process.env): AdminClient {
    const raw = env.TOLLGATE_URL?.trim() || DEFAULT_URL;
    let url: URL;
    try {
      url = new URL(raw);
    } catch {
      throw new Error(`TOLLGATE_URL is not a valid URL: "${raw}"`);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw new Error(`TOLLGATE_URL must be an http:// or https:// URL, not "${raw}"`);
    }
    const token = env.TOLLGATE_ADMIN_TOKEN?.trim();
    if (!token) {
      throw new Error(
        'TOLLGATE_ADMIN_TOKEN is not set: set it to an admin token of the Tollgate at ' +
          `${raw} (export TOLLGATE_ADMIN_TOKEN=...)`,
      );
    }
    return new AdminClient(raw.replace(/\/+$/, ''), token);
  }

  get<T>(path: string, query?: Query): Promise<T> {
    return this.call<T>('GET', path, { query });
  }

  /** Sends one request; resolves to the parsed JSON body (undefined for 204). */
  async call<T>(method: string, path: string, options: { body?: unknown; query?: Query | undefined } = {}): Promise<T> {
    const url = new URL(`${this.baseUrl}${path}`);
    for (const [name, value] of Object.entries(options.query ?? {})) {
      if (value !== undefined) url.searchParams.set(name, String(value));
    }
    let status: number;
    let statusText: string;
    let text: string;
    try {
      const response = await fetch(url, {
        method,
        headers: {
          authorization: `Bearer ${this.#token}`,
          accept: 'application/json',
          ...(options.body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        body: options.body === undefined ? undefined : JSON.stringify(options.body),
        signal: AbortSignal.timeout(TIMEOUT_MS),
      });
      status = response.status;
      statusText = response.statusText;
      text = await response.text();
    } catch (error) {
      throw new Error(unreachable(this.baseUrl, error));
    }
    const body = parseJson(text);
    if (status >= 400) throw new Error(apiMessage(status, statusText, body, this.baseUrl));
    return body as T;
  }
}

function parseJson(text: string): unknown {
  if (text === '') return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** The API's `{"error":{"message"}}`, or a description of whatever else answered. */
function apiMessage(status: number, statusText: string, body: unknown, baseUrl: string): string {
  const message = (body as { error?: { message?: unknown } } | undefined)?.error?.message;
  if (typeof message === 'string' && message !== '') {
    return status === 401 ? `${message} (check TOLLGATE_ADMIN_TOKEN)` : message;
  }
  return `HTTP ${status} ${statusText} from ${baseUrl}: is TOLLGATE_URL pointing at Tollgate?`;
}

function unreachable(baseUrl: string, error: unknown): string {
  const failure = error as { name?: string; message?: string; cause?: { code?: string; message?: string } };
  if (failure.name === 'TimeoutError') {
    return `Tollgate at ${baseUrl} did not answer within ${TIMEOUT_MS / 1000} s`;
  }
  const reason = failure.cause?.code ?? failure.cause?.message ?? failure.message ?? String(error);
  return `Tollgate could not be reached at ${baseUrl} (${reason}): is it running, and is TOLLGATE_URL right?`;
}
