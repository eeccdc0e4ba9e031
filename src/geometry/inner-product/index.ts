export * from './dense.js';
export * from './diagonal.js';
export * from './inner-product.js';
export * from './kronecker.js';
export * from './low-rank.js';
