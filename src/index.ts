/**
 * riesz — geometry-aware linear algebra. The public API: dense f64 kernels (`linalg`), the geometry
 * of linear maps between inner-product spaces (`geometry`), optimizers from geometries (`optim`) and
 * layers with curvature taps (`nn`) on jax-js, and typed errors. Node-only extras: `riesz/node`.
 */
export * from './backend/device.js';
export { fusedWgslEnabled, setFusedWgsl } from './backend/wgsl/kernels.js';
export * from './errors.js';
export * from './geometry/index.js';
export {
  type Complex,
  cholesky,
  conjTranspose,
  denseOperator,
  diag,
  eigh,
  hermitianFunction,
  identity as identityMatrix,
  inverseRoot,
  type LinearOperator,
  lanczosTopSingular,
  type Matrix,
  matmul,
  matrix,
  newtonSchulzPolar,
  polar,
  powerIteration,
  qr,
  Rng,
  randomHpd,
  randomNormal,
  randomUnitary,
  singularValues,
  svd,
  vector,
  zeros,
} from './linalg/index.js';
export * from './nn/index.js';
export * from './optim/index.js';
