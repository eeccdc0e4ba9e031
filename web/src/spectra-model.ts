/**
 * The spectra panel's numbers: the singular values of a layer's weight before and after one step of
 * riesz's Muon, one of its Pion and its spectral normalisation (the optimizer transforms run on
 * jax-js, the singular values by riesz's f64 Jacobi SVD), and the singular values of a small circular
 * convolution (riesz's `convSingularValues`).
 */
import { numpy as np } from '@jax-js/jax';
import {
  type ConvSpectrum,
  convSingularValues,
  disposeTree,
  type Matrix,
  matmul,
  muon,
  pion,
  projectSpectralNorm,
  Rng,
  randomNormal,
  randomUnitary,
  singularValues,
} from '../../src/index.js';
import type { GradientTransformation, ParamDict, Tensor } from '../../src/optim/types.js';

/** The layer's shape: 24 outputs, 16 inputs. */
export const LAYER_ROWS = 24;
export const LAYER_COLS = 16;

/** One singular value of one variant of the layer. */
export interface SpectrumPoint {
  variant: string;
  i: number;
  sigma: number;
}

/** The variants, in legend order. */
export const VARIANTS = [
  'before',
  'after a Muon step',
  'after a Pion step',
  'after spectral normalisation',
] as const;

/** The layer's singular values before and after each update, and the conv's spectrum. */
export interface SpectraView {
  layer: SpectrumPoint[];
  /** Largest |σᵢ(after Pion) − σᵢ(before)|: Pion rotates, so this is rounding only. */
  pionDrift: number;
  conv: ConvSpectrum;
}

const tensor = (M: Matrix): Tensor => np.array(Float32Array.from(M.re)).reshape([M.rows, M.cols]);

async function hostMatrix(t: Tensor, rows: number, cols: number): Promise<Matrix> {
  const data = (await t.data()) as Float32Array;
  return { rows, cols, re: Float64Array.from(data), im: null };
}

/** W after one update of `opt` with gradient G, from a fresh state (inputs are copied, not consumed). */
async function afterStep(opt: GradientTransformation<unknown>, W: Matrix, G: Matrix): Promise<Matrix> {
  const params: ParamDict = { w: tensor(W) };
  const state = opt.init(params);
  const [u, after] = await opt.update({ w: tensor(G) }, state, params);
  disposeTree(after);
  return hostMatrix(params.w.add(u.w), W.rows, W.cols);
}

/**
 * A 24×16 layer W = Q₁ diag(s) Q₂ᵀ with s = 2.5·0.82ⁱ, and a Gaussian gradient G, from `seed`; its
 * singular values before and after the three updates with learning rate `lr`; and the conv spectrum
 * of a 4×3×3×3 Gaussian kernel on 8×8 inputs.
 */
export async function spectraView(seed: number, lr: number): Promise<SpectraView> {
  if (!Number.isFinite(lr) || lr <= 0)
    throw new Error(`the learning rate must be a positive number, got ${lr}`);
  if (!Number.isInteger(seed)) throw new Error(`the seed must be an integer, got ${seed}`);
  const rng = new Rng(seed);
  const s = Array.from({ length: LAYER_COLS }, (_, i) => 2.5 * 0.82 ** i);
  const Q1 = randomUnitary(rng, LAYER_ROWS);
  const Q2 = randomUnitary(rng, LAYER_COLS);
  const S: Matrix = {
    rows: LAYER_ROWS,
    cols: LAYER_COLS,
    re: new Float64Array(LAYER_ROWS * LAYER_COLS),
    im: null,
  };
  for (let i = 0; i < LAYER_COLS; i++) S.re[i * LAYER_COLS + i] = s[i];
  const W = matmul(matmul(Q1, S), Q2);
  const G = randomNormal(rng, LAYER_ROWS, LAYER_COLS);
  for (let q = 0; q < G.re.length; q++) G.re[q] *= 0.25;

  const variants: [string, Matrix][] = [
    [VARIANTS[0], W],
    [VARIANTS[1], await afterStep(muon(lr) as GradientTransformation<unknown>, W, G)],
    [VARIANTS[2], await afterStep(pion({ lr }) as GradientTransformation<unknown>, W, G)],
    // A zero update, then the projection: W·min(1, 1/σ₁) (30 power-iteration steps pin σ₁ down).
    [
      VARIANTS[3],
      await afterStep(
        projectSpectralNorm({ maxNorm: 1, iterations: 30 }) as GradientTransformation<unknown>,
        W,
        { ...G, re: new Float64Array(G.re.length) },
      ),
    ],
  ];
  const spectra = variants.map(([variant, M]) => ({ variant, s: singularValues(M) }));
  const layer = spectra.flatMap(({ variant, s }) =>
    Array.from(s, (sigma, i) => ({ variant, i: i + 1, sigma })),
  );
  const before = spectra[0].s;
  const pionDrift = Math.max(...Array.from(spectra[2].s, (v, i) => Math.abs(v - before[i])));

  const kernel = { cOut: 4, cIn: 3, kh: 3, kw: 3, re: new Float64Array(4 * 3 * 3 * 3) };
  for (let q = 0; q < kernel.re.length; q++) kernel.re[q] = rng.normal() / 3;
  return { layer, pionDrift, conv: convSingularValues(kernel, 8, 8) };
}
