/**
 * Rate limit for repeated log lines: the first line of a kind goes out, then at most one per
 * window, saying how many were held back. Kinds should be few (an event and an error code, not
 * a message that carries values); the map is bounded all the same.
 */
export class LogThrottle {
  readonly #seen = new Map<string, { until: number; suppressed: number }>();
  readonly #windowMs: number;
  readonly #maxKinds: number;
  readonly #clock: () => number;

  constructor(options: { windowMs?: number; maxKinds?: number; clock?: () => number } = {}) {
    this.#windowMs = options.windowMs ?? 60_000;
    this.#maxKinds = options.maxKinds ?? 100;
    this.#clock = options.clock ?? Date.now;
  }

  /** Undefined: stay quiet. Otherwise log, and say how many lines of this kind were held back. */
  admit(kind: string): number | undefined {
    const now = this.#clock();
    const entry = this.#seen.get(kind);
    if (entry && now < entry.until) {
      entry.suppressed += 1;
      return undefined;
    }
    if (!entry && this.#seen.size >= this.#maxKinds) this.#evict(now);
    this.#seen.set(kind, { until: now + this.#windowMs, suppressed: 0 });
    return entry?.suppressed ?? 0;
  }

  #evict(now: number): void {
    for (const [kind, entry] of this.#seen) if (entry.until <= now) this.#seen.delete(kind);
    const oldest = this.#seen.keys().next();
    if (this.#seen.size >= this.#maxKinds && !oldest.done) this.#seen.delete(oldest.value);
  }
}
