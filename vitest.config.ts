import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['tests/**/*.test.ts'],
    // Model sessions, databases and Chromium are real: give them time, and run files one
    // at a time on these 2-core machines so timings inside a test stay sane.
    testTimeout: 60_000,
    hookTimeout: 120_000,
    fileParallelism: false,
    setupFiles: ['tests/setup.ts'],
  },
});
