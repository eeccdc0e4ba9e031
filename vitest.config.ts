import { defineConfig } from 'vitest/config';

// A generous per-test time limit: the CLI and training tests start Node and jax-js, and on a
// 2-core machine running several test files at once a 5-second default fails them for load alone.
// (Timings are never asserted in tests; this only bounds a hung test.)
export default defineConfig({ test: { testTimeout: 60_000 } });
