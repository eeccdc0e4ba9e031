/**
 * The numbers and shapes the geometry panel draws, all from riesz's geometry functions: the V-unit
 * circle S_V = {x : xᵀVx = 1}, its image A(S_V), the W-unit circle, the Frobenius-type norm
 * ‖A‖_{V,W} with the average response ‖A‖²/n (exact and by Monte Carlo), the maximal response σ₁
 * with its maximiser, and the Euclidean and Riesz gradients of a small loss. In three dimensions
 * the curves are the images of three great circles, projected onto the first two coordinates.
 */
import {
  averageResponse,
  conjTranspose,
  dense,
  frobeniusNorm,
  type Geometry,
  hermitianFunction,
  type InnerProduct,
  identityMatrix,
  type Matrix,
  matmul,
  matrix,
  maximalResponse,
  type ResponseEstimate,
  Rng,
  rieszGradient,
  weightedSingularValues,
} from '../../src/index.js';

/** The three matrices of the panel, as rows of numbers. */
export interface GeometryInput {
  A: number[][];
  V: number[][];
  W: number[][];
}

/** A point of a drawn curve; `part` separates the loops of one curve (three in 3-D). */
export interface CurvePoint {
  curve: string;
  part: string;
  i: number;
  x: number;
  y: number;
}

/** An arrow from (x, y) to (x2, y2). */
export interface Arrow {
  arrow: string;
  x: number;
  y: number;
  x2: number;
  y2: number;
  /** Direction of the head in degrees, as vega-lite's `angle` of a triangle (0 = up, clockwise). */
  angle: number;
}

/** A labelled point (the maximiser x*, its image Ax*, the loss's point x₀). */
export interface Marker {
  marker: string;
  x: number;
  y: number;
}

/** Everything the panel shows for one (A, V, W). */
export interface GeometryView {
  n: number;
  curves: CurvePoint[];
  arrows: Arrow[];
  markers: Marker[];
  /** Half-width of the square drawing. */
  extent: number;
  frobenius: number;
  /** ‖A‖²_{V,W}/n = E‖Ax‖²_W for x uniform on S_V. */
  averageResponse: number;
  /** σ₁ = max over S_V of ‖Ax‖_W, and a maximiser with its image. */
  sigma1: number;
  maximiser: number[];
  image: number[];
  /** Every singular value in the geometry (V, W). */
  singularValues: number[];
  euclideanGradient: number[];
  rieszGradient: number[];
}

/** Names of the drawn curves and arrows, in legend order (the colour scale's domain). */
export const SERIES = [
  'V-unit circle S_V',
  'image A(S_V)',
  'W-unit circle S_W',
  '−∇f (Euclidean)',
  '−grad_V f (Riesz)',
] as const;

/** The names of the presets of V and W. */
export const PRESETS = ['identity', 'anisotropic', 'kfac'] as const;
export type Preset = (typeof PRESETS)[number];

/** The map the page starts with. */
export function defaultMap(n: number): number[][] {
  return n === 2
    ? [
        [1.2, 0.6],
        [-0.3, 0.9],
      ]
    : [
        [1.2, 0.6, 0],
        [-0.3, 0.9, 0.4],
        [0.2, 0, 0.7],
      ];
}

const rowsOf = (M: Matrix): number[][] =>
  Array.from({ length: M.rows }, (_, i) => Array.from(M.re.subarray(i * M.cols, (i + 1) * M.cols)));

/** Rounds for the editors (4 significant digits keep V and W symmetric and positive definite). */
const tidy = (M: number[][]): number[][] => M.map((r) => r.map((v) => Number(v.toPrecision(4))));

/**
 * V and W of a preset for maps of size n: the identity; an anisotropic pair; or K-FAC's pair from a
 * data sample (MATH.md §7): V = Ā⁻¹ with Ā = E[xxᵀ] the second moment of 200 correlated inputs, and
 * W = Γ = E[ggᵀ] the second moment of the residuals g of a noisy linear model, both damped
 * by 0.01·I. With these the Riesz gradient W⁻¹GV is K-FAC's Γ⁻¹ G Ā⁻¹.
 */
export function presetGrams(preset: Preset, n: number, seed = 1): { V: number[][]; W: number[][] } {
  if (preset === 'identity') return { V: rowsOf(identityMatrix(n)), W: rowsOf(identityMatrix(n)) };
  if (preset === 'anisotropic') {
    return n === 2
      ? {
          V: [
            [3, 1],
            [1, 1],
          ],
          W: [
            [0.5, 0],
            [0, 2],
          ],
        }
      : {
          V: [
            [3, 1, 0],
            [1, 1, 0.2],
            [0, 0.2, 0.5],
          ],
          W: [
            [0.5, 0, 0],
            [0, 2, 0],
            [0, 0, 1],
          ],
        };
  }
  const rng = new Rng(seed);
  const samples = 200;
  const damping = 0.01;
  const mix = [
    [1.5, 0, 0],
    [0.9, 0.4, 0],
    [0.2, -0.3, 0.6],
  ];
  const Abar = Array.from({ length: n }, (_, i) =>
    Array.from({ length: n }, (_, j) => (i === j ? damping : 0)),
  );
  const Gamma = Abar.map((r) => [...r]);
  for (let s = 0; s < samples; s++) {
    const z = Array.from({ length: n }, () => rng.normal());
    const x = Array.from({ length: n }, (_, i) => mix[i].slice(0, n).reduce((t, m, j) => t + m * z[j], 0));
    // y = (A + 0.3·I)x + noise, so the residual of A is g = Ax − y = −0.3x − noise.
    const g = x.map((v) => -0.3 * v - 0.5 * rng.normal());
    for (let i = 0; i < n; i++)
      for (let j = 0; j < n; j++) {
        Abar[i][j] += (x[i] * x[j]) / samples;
        Gamma[i][j] += (g[i] * g[j]) / samples;
      }
  }
  const inv = hermitianFunction(matrix(Abar), (l) => 1 / l);
  return { V: tidy(rowsOf(inv)), W: tidy(Gamma) };
}

/** Points u on the Euclidean unit circle (n = 2) or three great circles (n = 3), as n×k columns. */
function unitLoops(n: number, k = 96): { parts: string[]; U: Matrix } {
  const loops =
    n === 2
      ? [[0, 1]]
      : [
          [0, 1],
          [0, 2],
          [1, 2],
        ];
  const cols = loops.length * (k + 1);
  const U = { rows: n, cols, re: new Float64Array(n * cols), im: null } as Matrix;
  const parts: string[] = [];
  loops.forEach(([a, b], l) => {
    for (let t = 0; t <= k; t++) {
      const c = l * (k + 1) + t;
      U.re[a * cols + c] = Math.cos((2 * Math.PI * t) / k);
      U.re[b * cols + c] = Math.sin((2 * Math.PI * t) / k);
      parts.push(`e${a + 1}e${b + 1}`);
    }
  });
  return { parts, U };
}

function curve(name: string, X: Matrix, parts: string[]): CurvePoint[] {
  const k = X.cols;
  return Array.from({ length: k }, (_, c) => ({
    curve: name,
    part: parts[c],
    i: c,
    x: X.re[c],
    y: X.re[k + c],
  }));
}

const column = (v: number[]): Matrix => matrix(v.map((x) => [x]));

/**
 * Computes the panel's view. The loss of the gradient arrows is f(x) = ½‖Ax − b‖²_W at
 * x₀ = (−0.5, −0.5, 0…) with b = (1, 0.5, 0.25…): ∇f = AᵀW(Ax₀ − b), and its Riesz gradient in the
 * domain's geometry is V⁻¹∇f (riesz's `rieszGradient` of the n×1 map ∇f with codomain Gram V).
 * @throws riesz's typed errors: NotPositiveDefiniteError, NotHermitianError, NonFiniteError, ShapeError.
 */
export function geometryView(input: GeometryInput): GeometryView {
  const A = matrix(input.A);
  const Vm = matrix(input.V);
  const Wm = matrix(input.W);
  const n = A.cols;
  const V: InnerProduct = dense(Vm, 'domain Gram matrix V');
  const W: InnerProduct = dense(Wm, 'codomain Gram matrix W');
  const geometry: Geometry = { domain: V, codomain: W };
  const frob = frobeniusNorm(A, geometry);
  const top = maximalResponse(A, geometry);
  const sv = Array.from(weightedSingularValues(A, geometry));

  const { parts, U } = unitLoops(n);
  const SV = V.factorSolveH(U); // x = R_V⁻ᴴ u has xᴴVx = uᴴu = 1
  const curves = [
    ...curve(SERIES[0], SV, parts),
    ...curve(SERIES[1], matmul(A, SV), parts),
    ...curve(SERIES[2], W.factorSolveH(U), parts),
  ];

  const x0 = column(Array.from({ length: n }, (_, i) => (i < 2 ? -0.5 : 0)));
  const b = column(Array.from({ length: n }, (_, i) => 2 ** -i));
  const residual = matmul(A, x0);
  for (let i = 0; i < n; i++) residual.re[i] -= b.re[i];
  const G = matmul(conjTranspose(A), W.rieszMap(residual));
  const R = rieszGradient(G, { codomain: V });

  let extent = 0;
  for (const p of curves) extent = Math.max(extent, Math.abs(p.x), Math.abs(p.y));
  extent = Math.max(extent, 1) * 1.1;
  const norm2 = (M: Matrix) => Math.hypot(M.re[0], M.re[1]);
  const longest = Math.max(norm2(G), norm2(R));
  const s = longest > 0 ? (0.5 * extent) / longest : 0;
  const arrow = (name: string, D: Matrix): Arrow => {
    const dx = -s * D.re[0];
    const dy = -s * D.re[1];
    return {
      arrow: name,
      x: x0.re[0],
      y: x0.re[1],
      x2: x0.re[0] + dx,
      y2: x0.re[1] + dy,
      angle: 90 - (Math.atan2(dy, dx) * 180) / Math.PI,
    };
  };
  return {
    n,
    curves,
    arrows: [arrow(SERIES[3], G), arrow(SERIES[4], R)],
    markers: [
      { marker: 'maximiser x*', x: top.x.re[0], y: top.x.re[1] },
      { marker: 'image Ax*', x: top.y.re[0], y: top.y.re[1] },
      { marker: 'loss point x₀', x: x0.re[0], y: x0.re[1] },
    ],
    extent,
    frobenius: frob,
    averageResponse: (frob * frob) / n,
    sigma1: top.value,
    maximiser: Array.from(top.x.re),
    image: Array.from(top.y.re),
    singularValues: sv,
    euclideanGradient: Array.from(G.re),
    rieszGradient: Array.from(R.re),
  };
}

/** The Monte Carlo estimate of E‖Ax‖²_W over S_V from the first `samples` draws of seed `seed`. */
export function responseEstimate(input: GeometryInput, samples: number, seed = 7): ResponseEstimate {
  return averageResponse(matrix(input.A), {
    domain: dense(matrix(input.V), 'domain Gram matrix V'),
    codomain: dense(matrix(input.W), 'codomain Gram matrix W'),
    measure: 'sphere',
    samples,
    seed,
  });
}
