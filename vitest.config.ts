import { defineConfig } from 'vitest/config';

/**
 * Several suites start real processes, databases and browsers; on a 2-core CI machine running
 * them side by side, setting up a PGlite database or a browser can take well over Vitest's 10 s
 * default for hooks. Timeouts here bound a hang, they are not speed targets (those are in
 * `npm run bench`).
 */
export default defineConfig({
  test: {
    hookTimeout: 60_000,
    testTimeout: 20_000,
  },
});
