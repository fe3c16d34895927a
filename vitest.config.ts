import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Worker-pool and i2pd tests start processes of their own; keep vitest's own parallelism modest on 2 cores.
    pool: 'forks',
    maxWorkers: 2,
  },
});
