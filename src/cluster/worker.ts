import { serve } from '../server.ts';

/**
 * A worker of `tollgate serve --workers N`: a whole Tollgate on the port its primary shares out.
 * If the primary goes (killed), the worker drains and stops as on SIGTERM: requests in flight
 * finish, usage records are written (or, on the embedded database the primary owned, spooled to
 * the data directory for the next start); it does not serve on without the primary.
 */
export async function runWorker(): Promise<void> {
  let primaryGone = false;
  // node:cluster's own handler exits a worker at once when the primary goes, cutting its
  // requests in flight and dropping the usage records it holds; drain instead.
  process.removeAllListeners('disconnect');
  process.once('disconnect', () => {
    primaryGone = true;
    process.emit('SIGTERM');
  });
  await serve();
  // Gone while this worker was starting: nobody was listening for the stop yet.
  if (primaryGone) process.emit('SIGTERM');
  // Only the primary decides when to stop: Ctrl-C in a terminal reaches every process of the
  // group, and a worker's own SIGINT on top of the primary's SIGTERM would count as a second
  // signal (cut at once). The primary forwards one SIGTERM per signal it gets.
  process.removeAllListeners('SIGINT');
  process.on('SIGINT', () => {});
}
