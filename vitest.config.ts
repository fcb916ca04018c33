import react from '@vitejs/plugin-react'
import { defineConfig } from 'vitest/config'

export default defineConfig({
  plugins: [react()],
  test: {
    // Server tests run in Node; web tests (web/src) declare their DOM with `// @vitest-environment happy-dom`.
    include: ['src/**/*.test.ts', 'test/**/*.test.ts', 'web/src/**/*.test.{ts,tsx}'],
    // One PostgreSQL per run (the embedded cluster, or TEST_DATABASE_URL's server); a fresh database per file.
    globalSetup: ['test/global-setup.ts'],
    // Safety nets against a hang, not budgets: tests that spawn servers, CLIs and workers must pass
    // with both cores busy (a fresh-clone CI run beside a CPU hog), so the limits are generous.
    testTimeout: 120_000,
    hookTimeout: 180_000,
    pool: 'forks',
    maxWorkers: 2,
    setupFiles: ['test/setup.ts'],
  },
})
