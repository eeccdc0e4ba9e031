/** The README's library example, run as written (values checked against MATH.md §12.8). */
import { expect, it } from 'vitest';
import {
  averageResponse,
  diagonal,
  frobeniusNorm,
  matrix,
  nuclearNorm,
  operatorDualMap,
  operatorNorm,
  rieszGradient,
} from '../src/index.js';
import { expectClose } from './helpers.js';

it('README library example', () => {
  const A = matrix([
    [1, 2],
    [3, 4],
  ]);
  const geometry = { domain: diagonal([4, 9]), codomain: diagonal([1, 16]) };
  expect(frobeniusNorm(A, geometry)).toBeCloseTo(Math.sqrt(2345 / 36), 13);
  expect(operatorNorm(A, geometry)).toBeCloseTo(8.069175009, 9);
  const est = averageResponse(A, { ...geometry, measure: 'sphere', samples: 10_000 });
  const exact = 2345 / 36 / 2;
  expect(est.interval[0] - 3 * est.stderr).toBeLessThan(exact);
  expect(est.interval[1] + 3 * est.stderr).toBeGreaterThan(exact);
  // W⁻¹ A V = diag(1, 1/16) A diag(4, 9)
  expectClose(
    rieszGradient(A, geometry),
    matrix([
      [4, 18],
      [12 / 16, 36 / 16],
    ]),
    1e-15,
  );
  // The dual norm of ‖·‖_{op;V,W} is the nuclear norm in the dual geometry (V⁻¹, W⁻¹).
  const dualGeometry = { domain: diagonal([1 / 4, 1 / 9]), codomain: diagonal([1, 1 / 16]) };
  expect(operatorDualMap(A, geometry).value).toBeCloseTo(nuclearNorm(A, dualGeometry), 12);
});
