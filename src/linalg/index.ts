/** riesz's own dense f64 kernels (real and complex). Layout conventions: see `matrix.ts`. */
export * from './cholesky.js';
export * from './eigh.js';
export * from './gemm.js';
export * from './kron.js';
export * from './lanczos.js';
export * from './matfun.js';
export * from './matrix.js';
export * from './qr.js';
export * from './random.js';
export * from './svd.js';
export * from './triangular.js';
