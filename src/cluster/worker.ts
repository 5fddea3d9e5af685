import { serve } from '../server.ts';

/**
 * A worker of `tollgate serve --workers N`: a whole Tollgate on the port its primary shares out.
 * If the primary goes (killed), the worker drains and stops as on SIGTERM rather than serve on
 * without the database or counters the primary kept.
 */
export async function runWorker(): Promise<void> {
  await serve();
  // Only the primary decides when to stop: Ctrl-C in a terminal reaches every process of the
  // group, and a worker's own SIGINT on top of the primary's SIGTERM would count as a second
  // signal (cut at once). The primary forwards one SIGTERM per signal it gets.
  process.removeAllListeners('SIGINT');
  process.on('SIGINT', () => {});
  process.once('disconnect', () => process.emit('SIGTERM'));
}
