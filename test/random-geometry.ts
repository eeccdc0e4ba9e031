/** Random inner products of every structure, for property tests. */
import {
  dense,
  diagonal,
  type GramKind,
  type InnerProduct,
  identity,
  kronecker,
  lowRankPlusDiagonal,
  scaled,
} from '../src/geometry/inner-product/index.js';
import { type Rng, randomHpd, randomNormal } from '../src/linalg/random.js';

export const GRAM_KINDS: GramKind[] = ['identity', 'scaled', 'diagonal', 'dense', 'kronecker', 'low-rank'];

export function randomInnerProduct(rng: Rng, n: number, complex: boolean, kind: GramKind): InnerProduct {
  switch (kind) {
    case 'identity':
      return identity(n);
    case 'scaled':
      return scaled(n, 0.2 + 3 * rng.uniform());
    case 'diagonal':
      return diagonal(Array.from({ length: n }, () => 0.2 + 3 * rng.uniform()));
    case 'dense':
      return dense(randomHpd(rng, n, complex));
    case 'kronecker': {
      // Factor n = n1·n2 with the largest proper divisor ≤ √n (n prime gives 1·n).
      let n1 = 1;
      for (let f = 2; f * f <= n; f++) if (n % f === 0) n1 = f;
      return kronecker(dense(randomHpd(rng, n1, complex)), dense(randomHpd(rng, n / n1, complex)));
    }
    case 'low-rank': {
      const k = 1 + Math.floor(rng.uniform() * Math.min(n, 3));
      const d = Array.from({ length: n }, () => 0.3 + rng.uniform());
      return lowRankPlusDiagonal(d, randomNormal(rng, n, k, complex));
    }
  }
}
