import type { FastifyInstance } from 'fastify';

/** Where a stop reports what it did; a pino logger fits. */
export interface ShutdownLogger {
  info(details: object, message: string): void;
  warn(details: object, message: string): void;
}

const openConnections = (app: FastifyInstance): Promise<number> =>
  new Promise((resolve) => app.server.getConnections((error, count) => resolve(error ? 0 : count)));

/**
 * Stops the HTTP side of a Tollgate: the listening socket closes at once (new connections are
 * refused), idle keep-alive connections are closed, and a request arriving on a busy one gets a
 * 503 with `Connection: close`. Requests in flight, streams included, may finish within
 * `graceMs`; past it every connection still open is cut. A cut request ends as one whose client
 * left: its handler bills it by the metering rules (docs/metering.md) a moment later, so wait
 * for the usage records with `quiescent` before closing the usage writer. Resolves with the
 * number of connections cut.
 */
export async function drain(app: FastifyInstance, graceMs: number, logger?: ShutdownLogger): Promise<number> {
  let cut = 0;
  const open = await openConnections(app);
  if (open > 0) logger?.info({ open, graceMs }, 'draining: new connections refused, requests in flight may finish');
  const closed = app.close();
  // A keep-alive connection whose request ends during the drain becomes idle after close() was
  // called, and close() closes only the connections idle at that moment: without this the drain
  // would wait for the whole grace (measured: 30 s for 20 finished requests).
  const sweep = setInterval(() => app.server.closeIdleConnections(), 100);
  const timer = setTimeout(async () => {
    cut = await openConnections(app);
    if (cut > 0) logger?.warn({ cut, graceMs }, 'shutdown grace over: cutting the requests still in flight');
    app.server.closeAllConnections();
  }, graceMs);
  try {
    await closed;
  } finally {
    clearTimeout(timer);
    clearInterval(sweep);
  }
  return cut;
}

/**
 * Resolves once `count()` has not changed for `quietMs`, or after `maxMs` at most. Handlers of
 * requests that were cut (or whose callers left) queue their usage record a few ticks after
 * their connection closed; this waits for them without knowing how many there are.
 */
export async function quiescent(count: () => number, quietMs: number, maxMs: number): Promise<void> {
  const deadline = Date.now() + maxMs;
  let last = count();
  let stableSince = Date.now();
  while (Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, Math.min(10, quietMs)));
    const now = count();
    if (now !== last) {
      last = now;
      stableSince = Date.now();
    } else if (Date.now() - stableSince >= quietMs) return;
  }
}
