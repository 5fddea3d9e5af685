/**
 * At most `limit` tasks at once and `maxWaiting` queued; past that, `run` refuses at once. Guards
 * password hashing (scrypt: ~100 ms of CPU and 32 MiB each) so that a flood of sign-ins cannot
 * take every core and the memory with it — the excess is told to retry instead.
 */
export class ConcurrencyGate {
  #active = 0;
  readonly #waiting: Array<() => void> = [];

  constructor(
    readonly limit: number,
    readonly maxWaiting: number,
  ) {}

  /** The task's result, or undefined at once when every slot is taken and the queue is full. */
  run<T>(task: () => Promise<T>): Promise<T> | undefined {
    if (this.#active >= this.limit && this.#waiting.length >= this.maxWaiting) return undefined;
    return this.#enter().then(async () => {
      try {
        return await task();
      } finally {
        this.#leave();
      }
    });
  }

  async #enter(): Promise<void> {
    if (this.#active < this.limit) {
      this.#active++;
      return;
    }
    await new Promise<void>((resolve) => this.#waiting.push(resolve));
  }

  /** Hands the slot to the next waiting task, if any. */
  #leave(): void {
    const next = this.#waiting.shift();
    if (next) next();
    else this.#active--;
  }
}
