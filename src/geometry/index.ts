/** The geometry of linear maps between inner-product spaces (MATH.md §1–§6, §8, §10). */
export * from './adjoint.js';
export * from './conv-spectrum.js';
export * from './dual-map.js';
export * from './frobenius.js';
export * from './inner-product/index.js';
export * from './metric-trace.js';
export * from './response.js';
export * from './riesz-gradient.js';
export * from './spaces.js';
export * from './spectral.js';
export * from './two-to-q.js';
