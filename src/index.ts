/**
 * riesz — geometry-aware linear algebra. The public API: dense f64 kernels (`linalg`), the geometry
 * of linear maps between inner-product spaces (`geometry`), file formats (`io`) and typed errors.
 */
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
