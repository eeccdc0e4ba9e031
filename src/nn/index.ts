/** Layers with explicit backward passes and curvature taps; losses with predictive distributions. */
export * from './attention.js';
export * from './conv2d.js';
export * from './convnet.js';
export * from './embedding.js';
export * from './fisher.js';
export * from './layers.js';
export * from './losses.js';
export * from './matmul.js';
export * from './mlp.js';
export * from './model.js';
export * from './transformer.js';
