/**
 * The pair of spaces a linear map A: X → Y acts between: X = 𝕂ⁿ with Gram matrix V (the *domain*)
 * and Y = 𝕂ᵐ with Gram matrix W (the *codomain*); A is m×n. Omitted spaces are Euclidean.
 */
import { ShapeError } from '../errors.js';
import { conjTranspose, type Matrix, shapeOf } from '../linalg/matrix.js';
import { dense } from './inner-product/dense.js';
import { identity } from './inner-product/diagonal.js';
import type { InnerProduct } from './inner-product/inner-product.js';

/** The inner products of a map A: 𝕂ⁿ → 𝕂ᵐ, on its domain (V) and codomain (W); identity by default. */
export interface Geometry {
  /** Inner product on the domain 𝕂ⁿ (Gram matrix V), or V itself; default identity. */
  domain?: InnerProduct | Matrix;
  /** Inner product on the codomain 𝕂ᵐ (Gram matrix W), or W itself; default identity. */
  codomain?: InnerProduct | Matrix;
}

/** A {@link Geometry} with both inner products present and checked against the map's shape. */
export interface ResolvedGeometry {
  domain: InnerProduct;
  codomain: InnerProduct;
}

function isInnerProduct(x: InnerProduct | Matrix): x is InnerProduct {
  return (x as InnerProduct).dim !== undefined;
}

function resolveOne(space: InnerProduct | Matrix | undefined, dim: number, name: string): InnerProduct {
  if (space === undefined) return identity(dim);
  const ip = isInnerProduct(space) ? space : dense(space, name);
  if (ip.dim !== dim) {
    throw new ShapeError(
      `${name} has dimension ${ip.dim} but the map needs ${dim} (${name.split(' ').pop()} is ${ip.dim}×${ip.dim})`,
    );
  }
  return ip;
}

/**
 * Checks dimensions against an m×n map and turns matrices into dense inner products.
 * @throws ShapeError naming the map's shape and the Gram matrix's shape.
 */
export function resolveGeometry(rows: number, cols: number, g: Geometry = {}): ResolvedGeometry {
  const mapShape = `${rows}×${cols}`;
  try {
    return {
      domain: resolveOne(g.domain, cols, 'domain Gram matrix V'),
      codomain: resolveOne(g.codomain, rows, 'codomain Gram matrix W'),
    };
  } catch (e) {
    if (e instanceof ShapeError) throw new ShapeError(`${e.message}; the map A is ${mapShape}`);
    throw e;
  }
}

/**
 * The whitened map M = R_Wᴴ A R_V⁻ᴴ (V = R_V R_Vᴴ, W = R_W R_Wᴴ; Cholesky factors for dense Gram
 * matrices). Its singular values are those of W^{1/2} A V^{−1/2} (MATH.md §5) and
 * ‖M‖_F = ‖A‖_{V,W} (MATH.md §4). Cost: a triangular solve and a triangular product, O(mn(m+n)).
 */
export function whiten(A: Matrix, g: ResolvedGeometry): Matrix {
  checkMap(A, g);
  // A R_V⁻ᴴ = (R_V⁻¹ Aᴴ)ᴴ
  const ARinvH = conjTranspose(g.domain.factorSolve(conjTranspose(A)));
  return g.codomain.factorApplyH(ARinvH);
}

/**
 * Checks that A (m×n) maps the domain's 𝕂ⁿ to the codomain's 𝕂ᵐ.
 * @throws ShapeError naming the map's shape and the two dimensions.
 */
export function checkMap(A: Matrix, g: ResolvedGeometry): void {
  if (A.cols !== g.domain.dim || A.rows !== g.codomain.dim) {
    throw new ShapeError(
      `map A is ${shapeOf(A)} but the domain has dimension ${g.domain.dim} and the codomain ${g.codomain.dim}`,
    );
  }
}
