/**
 * Singular values of a 2-D circular convolution layer (MATH.md §10). A kernel K of shape
 * c_out×c_in×k_h×k_w acting on c_in channels of n_h×n_w images with circular boundary,
 *   y[o, i, j] = Σ_c Σ_{a,b} K[o, c, a, b] · x[c, (i + a) mod n_h, (j + b) mod n_w],
 * is block-diagonalised by the 2-D DFT: its singular values are the union over frequencies (u, v) of
 * the singular values of the c_out×c_in matrices P(u, v) = Σ_{a,b} K[·, ·, a, b] ω_h^{ua} ω_w^{vb}
 * (ω = e^{2πi/n}). So ‖conv‖_op = max_{u,v} σ₁(P(u, v)) and ‖conv‖_F = √(n_h n_w)·‖K‖_F.
 * (True convolution, x[(i − a), (j − b)], conjugates/reflects the frequencies: same singular values.)
 *
 * P is evaluated directly on the kernel's k_h×k_w support, O(n_h n_w k_h k_w c_out c_in) — cheaper than
 * an FFT of the zero-padded kernel for the small kernels of convolutional networks.
 */
import { ShapeError } from '../errors.js';
import { matmul } from '../linalg/gemm.js';
import { conjTranspose, diag, type Matrix, zeros } from '../linalg/matrix.js';
import { svd } from '../linalg/svd.js';

/** A convolution kernel, row-major over [c_out][c_in][k_h][k_w]; complex when `im` is given. */
export interface ConvKernel {
  cOut: number;
  cIn: number;
  kh: number;
  kw: number;
  re: Float64Array;
  im?: Float64Array | null;
}

/** The singular values of a circular convolution, with its operator and Frobenius norms. */
export interface ConvSpectrum {
  /** All n_h·n_w·min(c_out, c_in) singular values, descending. */
  values: Float64Array;
  /** σ₁ of the layer and the frequency (u, v) where it is attained. */
  operatorNorm: number;
  argmax: [number, number];
  /** √(Σσ²) = √(n_h n_w)·‖K‖_F. */
  frobeniusNorm: number;
}

/**
 * Singular values of the circular convolution with kernel K on n_h×n_w inputs.
 * @throws ShapeError when the kernel's data length does not match its shape or exceeds the image.
 * @example convSingularValues({ cOut: 1, cIn: 1, kh: 1, kw: 2, re: Float64Array.of(1, 1) }, 4, 4).operatorNorm // 2
 */
export function convSingularValues(K: ConvKernel, nh: number, nw = nh): ConvSpectrum {
  const values: number[] = [];
  let best = -1;
  let argmax: [number, number] = [0, 0];
  forEachFrequency(K, nh, nw, (u, v, P) => {
    const s = svd(P).s;
    for (const x of s) values.push(x);
    if (s[0] > best) {
      best = s[0];
      argmax = [u, v];
    }
  });
  const sorted = Float64Array.from(values).sort().reverse();
  let k2 = 0;
  for (let q = 0; q < K.re.length; q++) k2 += K.re[q] ** 2 + (K.im ? K.im[q] ** 2 : 0);
  return { values: sorted, operatorNorm: best, argmax, frobeniusNorm: Math.sqrt(nh * nw * k2) };
}

/** Calls f(u, v, P(u, v)) for every frequency, P the c_out×c_in response matrix (complex). */
function forEachFrequency(
  K: ConvKernel,
  nh: number,
  nw: number,
  f: (u: number, v: number, P: Matrix) => void,
): void {
  const { cOut, cIn, kh, kw } = K;
  const size = cOut * cIn * kh * kw;
  if (K.re.length !== size || (K.im && K.im.length !== size)) {
    throw new ShapeError(`conv kernel ${cOut}×${cIn}×${kh}×${kw} needs ${size} entries, got ${K.re.length}`);
  }
  if (kh > nh || kw > nw)
    throw new ShapeError(`conv kernel ${kh}×${kw} is larger than the ${nh}×${nw} input`);
  // Twiddles ω^{ua} for every frequency and tap.
  const cosH = new Float64Array(nh * kh);
  const sinH = new Float64Array(nh * kh);
  for (let u = 0; u < nh; u++) {
    for (let a = 0; a < kh; a++) {
      const t = (2 * Math.PI * ((u * a) % nh)) / nh;
      cosH[u * kh + a] = Math.cos(t);
      sinH[u * kh + a] = Math.sin(t);
    }
  }
  const cosW = new Float64Array(nw * kw);
  const sinW = new Float64Array(nw * kw);
  for (let v = 0; v < nw; v++) {
    for (let b = 0; b < kw; b++) {
      const t = (2 * Math.PI * ((v * b) % nw)) / nw;
      cosW[v * kw + b] = Math.cos(t);
      sinW[v * kw + b] = Math.sin(t);
    }
  }
  for (let u = 0; u < nh; u++) {
    for (let v = 0; v < nw; v++) {
      const P = zeros(cOut, cIn, true);
      for (let o = 0; o < cOut; o++) {
        for (let c = 0; c < cIn; c++) {
          let sr = 0;
          let si = 0;
          const base = (o * cIn + c) * kh * kw;
          for (let a = 0; a < kh; a++) {
            for (let b = 0; b < kw; b++) {
              // ω^{ua + vb} = (cos α cos β − sin α sin β) + i(sin α cos β + cos α sin β)
              const ca = cosH[u * kh + a];
              const sa = sinH[u * kh + a];
              const cb = cosW[v * kw + b];
              const sb = sinW[v * kw + b];
              const wr = ca * cb - sa * sb;
              const wi = sa * cb + ca * sb;
              const kr = K.re[base + a * kw + b];
              const ki = K.im ? K.im[base + a * kw + b] : 0;
              sr += kr * wr - ki * wi;
              si += kr * wi + ki * wr;
            }
          }
          P.re[o * cIn + c] = sr;
          P.im![o * cIn + c] = si;
        }
      }
      f(u, v, P);
    }
  }
}

/**
 * ConvNorm-style channel normalisation in the Fourier domain (MATH.md §10): every frequency's
 * response P(u, v) = U Σ Qᴴ is replaced by U diag(σ/√(σ² + ε)) Qᴴ — the polar factor when ε = 0 —
 * so that the layer acts as an isometry (all singular values 1, or just below for small σ when
 * ε > 0). The result is the n_h×n_w kernel whose DFT is the normalised response (its support is the
 * whole image), real when K is real.
 * @example convSingularValues(convNormalize(K, 8), 8).values // all ≈ 1
 */
export function convNormalize(K: ConvKernel, nh: number, nw = nh, eps = 0): ConvKernel {
  const { cOut, cIn } = K;
  const n = nh * nw;
  const out = { re: new Float64Array(cOut * cIn * n), im: new Float64Array(cOut * cIn * n) };
  forEachFrequency(K, nh, nw, (u, v, P) => {
    const { U, s, V } = svd(P);
    const US = matmul(
      U,
      diag(Array.from(s, (x) => (eps === 0 ? (x > 0 ? 1 : 0) : x / Math.sqrt(x * x + eps)))),
    );
    const Ph = matmul(US, conjTranspose(V));
    // Inverse DFT: K̂[o, c, i, j] = (1/n) Σ_{u,v} P̂(u, v)[o, c] ω^{−(ui + vj)}.
    for (let i = 0; i < nh; i++) {
      for (let j = 0; j < nw; j++) {
        const t = -2 * Math.PI * (((u * i) % nh) / nh + ((v * j) % nw) / nw);
        const wr = Math.cos(t) / n;
        const wi = Math.sin(t) / n;
        for (let q = 0; q < cOut * cIn; q++) {
          const pr = Ph.re[q];
          const pi = Ph.im ? Ph.im[q] : 0;
          const idx = q * n + i * nw + j;
          out.re[idx] += pr * wr - pi * wi;
          out.im[idx] += pr * wi + pi * wr;
        }
      }
    }
  });
  return { cOut, cIn, kh: nh, kw: nw, re: out.re, im: K.im ? out.im : null };
}
