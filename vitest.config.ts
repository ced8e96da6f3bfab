import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['tests/**/*.test.ts'],
    // One temp root per run, removed at the end (tests/helpers/temp-root.ts).
    globalSetup: ['tests/helpers/temp-root.ts'],
    testTimeout: 60_000,
    hookTimeout: 300_000,
    // Trials spawn real processes and containers; two cores are shared by every worker.
    maxWorkers: 2,
    minWorkers: 1,
  },
});
