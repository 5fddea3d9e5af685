/**
 * Wraps a whole-cache reload so that concurrent calls share one run, and a call made while a
 * run is under way causes one more run after it — so no change is missed and none is loaded
 * twice at once. Failures go to `onError`; the cache keeps what it had.
 */
export function coalescedReload(load: () => Promise<void>, onError: (error: unknown) => void): () => Promise<void> {
  let running: Promise<void> | undefined;
  let again = false;
  return () => {
    if (running) {
      again = true;
      return running;
    }
    running = (async () => {
      do {
        again = false;
        await load().catch(onError);
      } while (again);
    })().finally(() => {
      running = undefined;
    });
    return running;
  };
}
