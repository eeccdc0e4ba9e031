/** Optimizers from geometries, optax-shaped, on jax-js arrays. */
export * from './alias.js';
export * from './base.js';
export * from './fused.js';
export * from './geometry-transforms.js';
export * from './kfac.js';
export * from './matrix-functions.js';
export * from './partition.js';
export * from './projections.js';
export * from './shampoo.js';
export * from './types.js';
