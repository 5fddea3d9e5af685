import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { serveOpenAIScenario } from './scenarios/openai.ts';
import { serveResponsesScenario } from './scenarios/openai-responses.ts';
import { takeScenario } from './scenarios/scenario.ts';

const fixture = (name: string) => readFileSync(new URL(`../fixtures/azure/${name}`, import.meta.url), 'utf8');
const CHAT = JSON.parse(fixture('chat-completion.json'));
const STREAM = fixture('chat-completion-stream.txt');
const EMBEDDINGS = JSON.parse(fixture('embeddings.json'));
const UNAUTHORIZED = fixture('error-unauthorized.json');
const TOKEN_INVALID = fixture('error-token-invalid.json');
const DEPLOYMENT_NOT_FOUND = fixture('error-deployment-not-found.json');
const RESOURCE_NOT_FOUND = fixture('error-resource-not-found.json');
const INVALID_CLIENT = fixture('entra-error-invalid-client.json');
const TENANT_NOT_FOUND = fixture('entra-error-tenant-not-found.json');
const TOKEN = JSON.parse(fixture('entra-token.json'));

/** The audience Azure OpenAI accepts tokens for. */
export const AZURE_SCOPE = 'https://cognitiveservices.azure.com/.default';

export interface FakeAzureOptions {
  /** The resource's API key (sent as `api-key`). */
  apiKey: string;
  /** The service principal Entra ID knows. */
  tenantId: string;
  clientId: string;
  clientSecret: string;
  /** `expires_in` of issued tokens, in seconds. */
  tokenLifetimeSeconds?: number;
  /** API versions the resource accepts on the deployment paths. */
  apiVersions?: string[];
  /** Deployments that exist; any name is accepted when left out. */
  deployments?: string[];
}

export interface AzureCall {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: IncomingMessage['headers'];
  body: Record<string, unknown>;
  /** The deployment named in the path (or, on the v1 API, the body's `model`). */
  deployment: string;
}

export interface TokenCall {
  tenant: string;
  form: URLSearchParams;
}

/**
 * A fake Azure OpenAI resource and, on the same port under `/login`, a fake Entra ID token
 * endpoint. The resource serves chat completions (whole and streamed) and embeddings in Azure's
 * shape at the deployment paths (`/openai/deployments/{deployment}/…?api-version=…`) and the v1
 * paths (`/openai/v1/…`), and accepts the `api-key` header or a bearer token this fake issued
 * and that has not expired. The token endpoint checks the client-credentials form.
 *
 * A deployment named `fail-<status>` answers with that status, `slow-<ms>` waits first. A
 * `tg-scenario:<name>` marker in the prompt answers with a metering scenario (scenarios/openai.ts;
 * on the `responses` paths, scenarios/openai-responses.ts).
 */
export class FakeAzure {
  readonly calls: AzureCall[] = [];
  readonly tokenCalls: TokenCall[] = [];
  /** Issued access tokens and when they expire (epoch ms). */
  readonly #tokens = new Map<string, number>();
  #server: Server | undefined;
  /** `https://{resource}.openai.azure.com` stand-in. */
  endpoint = '';
  /** `https://login.microsoftonline.com` stand-in. */
  authorityHost = '';
  /** Delay before the token endpoint answers, to let callers pile up. */
  tokenDelayMs = 0;
  /** The next this-many token requests fail with HTTP 503. */
  tokenFailures = 0;

  constructor(readonly options: FakeAzureOptions) {}

  async start(): Promise<this> {
    this.#server = createServer((request, response) => {
      this.#handle(request, response).catch((error: Error) => {
        response.writeHead(500, { 'content-type': 'application/json' });
        response.end(JSON.stringify({ error: { code: 'InternalServerError', message: error.message } }));
      });
    });
    await new Promise<void>((resolve) => this.#server?.listen(0, '127.0.0.1', resolve));
    const origin = `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
    this.endpoint = origin;
    this.authorityHost = `${origin}/login`;
    return this;
  }

  async close(): Promise<void> {
    this.#server?.closeAllConnections();
    await new Promise((resolve) => this.#server?.close(resolve));
  }

  /** Makes every token issued so far invalid, as if it had expired. */
  expireTokens(): void {
    for (const token of this.#tokens.keys()) this.#tokens.set(token, 0);
  }

  async #handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const raw = Buffer.concat(chunks).toString('utf8');
    const url = new URL(request.url ?? '/', 'http://fake');
    const send = (status: number, payload: unknown, headers: Record<string, string> = {}) => {
      response.writeHead(status, { 'content-type': 'application/json', ...headers });
      response.end(typeof payload === 'string' ? payload : JSON.stringify(payload));
    };

    const tokenPath = /^\/login\/([^/]+)\/oauth2\/v2\.0\/token$/.exec(url.pathname);
    if (tokenPath) return this.#token(decodeURIComponent(tokenPath[1] ?? ''), raw, request, send);

    const body = raw ? (JSON.parse(raw) as Record<string, unknown>) : {};
    const dated = /^\/openai\/deployments\/([^/]+)\/(chat\/completions|embeddings|responses)$/.exec(url.pathname);
    const v1 = /^\/openai\/v1\/(chat\/completions|embeddings|responses)$/.exec(url.pathname);
    if (!dated && !v1) return send(404, RESOURCE_NOT_FOUND);
    const deployment = dated ? decodeURIComponent(dated[1] ?? '') : String(body.model ?? '');
    const operation = (dated ? dated[2] : v1?.[1]) ?? '';
    this.calls.push({
      method: request.method ?? '',
      path: url.pathname,
      query: url.searchParams,
      headers: request.headers,
      body,
      deployment,
    });

    if (!this.#authorized(request)) {
      return send(401, request.headers['api-key'] !== undefined ? UNAUTHORIZED : TOKEN_INVALID);
    }
    if (dated) {
      const version = url.searchParams.get('api-version');
      if (!version) return send(404, RESOURCE_NOT_FOUND);
      if (!(this.options.apiVersions ?? ['2024-10-21']).includes(version)) {
        return send(400, { error: { code: 'BadRequest', message: 'API version not supported' } });
      }
    }
    const failure = /^fail-(\d{3})$/.exec(deployment);
    if (failure) {
      const status = Number(failure[1]);
      return send(
        status,
        { error: { code: String(status), message: 'The server had an error while processing your request.' } },
        status === 429 ? { 'retry-after': '7' } : {},
      );
    }
    const slow = /^slow-(\d+)$/.exec(deployment);
    if (slow) await new Promise((resolve) => setTimeout(resolve, Number(slow[1])));
    else if (this.options.deployments && !this.options.deployments.includes(deployment)) {
      return send(404, DEPLOYMENT_NOT_FOUND);
    }

    // A `tg-scenario:<name>` marker in the prompt picks a metering scenario (scenarios/scenario.ts).
    const scenario = operation === 'embeddings' ? undefined : takeScenario(body, response);
    if (scenario && operation === 'responses') return serveResponsesScenario(scenario, body, response);
    if (scenario) return serveOpenAIScenario(scenario, body, response);
    if (operation === 'responses') return send(404, RESOURCE_NOT_FOUND);
    if (operation === 'embeddings') {
      const inputs = Array.isArray(body.input) ? body.input : [body.input];
      const tokens = inputs.map(String).join(' ').split(/\s+/).filter(Boolean).length;
      return send(200, {
        ...EMBEDDINGS,
        data: inputs.map((_, index) => ({ ...EMBEDDINGS.data[0], index })),
        usage: { prompt_tokens: tokens, total_tokens: tokens },
      });
    }
    if (body.stream !== true) return send(200, CHAT);
    const includeUsage = (body.stream_options as { include_usage?: boolean } | undefined)?.include_usage === true;
    response.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    for (const event of STREAM.split('\n\n').filter((text) => text.trim() !== '')) {
      if (event.includes('"choices":[],"created":1') && !includeUsage) continue;
      response.write(`${includeUsage ? event : event.replace(',"usage":null', '')}\n\n`);
    }
    response.end();
  }

  #authorized(request: IncomingMessage): boolean {
    if (request.headers['api-key'] !== undefined) return request.headers['api-key'] === this.options.apiKey;
    const bearer = /^Bearer (.+)$/.exec(request.headers.authorization ?? '')?.[1];
    const expiresAt = bearer ? this.#tokens.get(bearer) : undefined;
    return expiresAt !== undefined && expiresAt > Date.now();
  }

  async #token(
    tenant: string,
    raw: string,
    request: IncomingMessage,
    send: (status: number, payload: unknown) => void,
  ): Promise<void> {
    const form = new URLSearchParams(raw);
    this.tokenCalls.push({ tenant, form });
    if (this.tokenDelayMs > 0) await new Promise((resolve) => setTimeout(resolve, this.tokenDelayMs));
    if (this.tokenFailures > 0) {
      this.tokenFailures--;
      return send(503, { error: 'temporarily_unavailable', error_description: 'AADSTS90033: A transient error.' });
    }
    if (
      request.method !== 'POST' ||
      !request.headers['content-type']?.startsWith('application/x-www-form-urlencoded')
    ) {
      return send(400, {
        error: 'invalid_request',
        error_description: 'AADSTS900144: The request body must be a form.',
      });
    }
    if (tenant !== this.options.tenantId) return send(400, TENANT_NOT_FOUND.replace('TENANT', tenant));
    if (form.get('grant_type') !== 'client_credentials') {
      return send(400, { error: 'unsupported_grant_type', error_description: 'AADSTS70003: Unsupported grant type.' });
    }
    if (form.get('scope') !== AZURE_SCOPE) {
      return send(400, { error: 'invalid_scope', error_description: 'AADSTS70011: The provided scope is not valid.' });
    }
    if (form.get('client_id') !== this.options.clientId || form.get('client_secret') !== this.options.clientSecret) {
      return send(401, INVALID_CLIENT);
    }
    const lifetime = this.options.tokenLifetimeSeconds ?? 3599;
    const token = `fake-entra-${randomBytes(16).toString('hex')}`;
    this.#tokens.set(token, Date.now() + lifetime * 1000);
    send(200, { ...TOKEN, expires_in: lifetime, ext_expires_in: lifetime, access_token: token });
  }
}
