import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['{agent,collector,probes,lib,cli,rules,deploy,dashboards,bench}/**/*.test.ts'],
          testTimeout: 20_000,
        },
      },
      {
        test: {
          name: 'e2e',
          include: ['test/**/*.test.ts'],
          testTimeout: 120_000,
          hookTimeout: 120_000,
          // End-to-end tests start real daemons on fixed loopback ports; run them one file at a time.
          fileParallelism: false,
        },
      },
    ],
  },
});
