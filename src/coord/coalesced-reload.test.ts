import { describe, expect, it } from 'vitest';
import { coalescedReload } from './coalesced-reload.ts';

describe('coalesced reload', () => {
  it('shares a run between concurrent calls and runs once more for a call made during it', async () => {
    let runs = 0;
    let release: () => void = () => {};
    const reload = coalescedReload(
      () =>
        new Promise<void>((resolve) => {
          runs++;
          release = resolve;
        }),
      () => {},
    );
    const first = reload();
    const second = reload();
    expect(second).toBe(first);
    release();
    await new Promise((resolve) => setImmediate(resolve));
    expect(runs).toBe(2);
    release();
    await first;
    expect(runs).toBe(2);
  });

  it('reports a failed run and keeps going', async () => {
    const errors: unknown[] = [];
    const reload = coalescedReload(
      async () => {
        throw new Error('database away');
      },
      (error) => errors.push(error),
    );
    await reload();
    expect(errors).toHaveLength(1);
  });
});
