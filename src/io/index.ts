export * from './csv.js';
export * from './files.js';
export * from './limits.js';
export * from './mtx.js';
export * from './npy.js';
