import type { IncomingMessage, Server } from 'node:http';
import type { Socket } from 'node:net';

export interface ConnectionLimits {
  /** Time a client has to send its whole request head, from connecting or from its last request. */
  headersTimeoutMs: number;
  /** Time a request body may go without a byte arriving. */
  bodyTimeoutMs: number;
  /** Time a keep-alive connection may sit idle between requests. */
  idleTimeoutMs: number;
  /** Open client connections at most; past it new ones are closed at once. */
  maxConnections: number;
}

/** A request with a body still to come: a length above zero, or a chunked body. */
function expectsBody(request: IncomingMessage): boolean {
  const length = request.headers['content-length'];
  return (length !== undefined && length !== '0') || request.headers['transfer-encoding'] !== undefined;
}

/**
 * Bounds how long a client may hold a connection without doing its part, in each phase of it:
 *
 * - before and while sending its request head: a socket that sends nothing is closed by an
 *   idle timer after `headersTimeoutMs`; one that trickles header lines by Node's own
 *   `headersTimeout`, which Node checks every `connectionsCheckingInterval` (408, then close);
 * - while sending its body: closed after `bodyTimeoutMs` without a byte;
 * - while Tollgate answers: no limit here, so a stream may last as long as the provider takes
 *   (the provider's side has `TOLLGATE_UPSTREAM_TIMEOUT_MS`);
 * - between requests on a keep-alive connection: closed after `idleTimeoutMs` (Node's
 *   `keepAliveTimeout`).
 *
 * No whole-request timeout: it would cut long streams. Call before `listen`.
 */
export function limitConnections(server: Server, limits: ConnectionLimits): void {
  server.headersTimeout = limits.headersTimeoutMs;
  server.requestTimeout = 0;
  server.keepAliveTimeout = limits.idleTimeoutMs;
  server.maxConnections = limits.maxConnections;
  // Read by Node when it starts listening: how often it looks for connections past headersTimeout.
  (server as Server & { connectionsCheckingInterval: number }).connectionsCheckingInterval = Math.min(
    1000,
    Math.max(50, Math.floor(limits.headersTimeoutMs / 4)),
  );

  server.on('connection', (socket: Socket) => {
    socket.setTimeout(limits.headersTimeoutMs);
    socket.on('timeout', () => socket.destroy());
  });
  // Before Fastify's own listener, so that the timer is set before the request is handled.
  server.prependListener('request', (request: IncomingMessage) => {
    const socket = request.socket;
    if (!expectsBody(request)) {
      socket.setTimeout(0);
      return;
    }
    socket.setTimeout(limits.bodyTimeoutMs);
    request.once('end', () => {
      if (!socket.destroyed) socket.setTimeout(0);
    });
  });
}
