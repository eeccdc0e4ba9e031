/**
 * Seeded pseudo-random numbers for reproducible experiments and tests: xoshiro128** for uniforms
 * (53-bit doubles from two draws), Box–Muller for normals, and random test matrices.
 */
import { cholesky } from './cholesky.js';
import { matmul } from './gemm.js';
import { conjTranspose, type Matrix, zeros } from './matrix.js';
import { qr } from './qr.js';

/** A seeded generator of uniform and normal numbers (xoshiro128**); the same seed gives the same stream. */
export class Rng {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;
  private spare: number | null = null;

  constructor(seed = 0) {
    // splitmix32 expands the seed into the four state words.
    let x = seed >>> 0;
    const next = () => {
      x = (x + 0x9e3779b9) >>> 0;
      let z = x;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.s0 = next();
    this.s1 = next();
    this.s2 = next();
    this.s3 = next();
  }

  /** A uniform 32-bit unsigned integer. */
  nextUint32(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5), 7), 9) >>> 0;
    const t = this.s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 11);
    return result;
  }

  /** Uniform on [0, 1) with 53 random bits. */
  uniform(): number {
    const hi = this.nextUint32() >>> 5; // 27 bits
    const lo = this.nextUint32() >>> 6; // 26 bits
    return (hi * 67108864 + lo) / 9007199254740992;
  }

  /** Standard normal N(0, 1) by the Box–Muller transform. */
  normal(): number {
    if (this.spare !== null) {
      const s = this.spare;
      this.spare = null;
      return s;
    }
    let u = 0;
    while (u === 0) u = this.uniform();
    const v = this.uniform();
    const r = Math.sqrt(-2 * Math.log(u));
    this.spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  }
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}

/** An m×n matrix of N(0,1) entries; complex entries are (z_r + i z_i)/√2 (circular, E|z|² = 1). */
export function randomNormal(rng: Rng, m: number, n: number, complex = false): Matrix {
  const A = zeros(m, n, complex);
  const s = complex ? Math.SQRT1_2 : 1;
  for (let k = 0; k < A.re.length; k++) {
    A.re[k] = s * rng.normal();
    if (A.im) A.im[k] = s * rng.normal();
  }
  return A;
}

/** A Haar-like random orthogonal (unitary) n×n matrix from the QR of a Gaussian matrix. */
export function randomUnitary(rng: Rng, n: number, complex = false): Matrix {
  const { Q, R } = qr(randomNormal(rng, n, n, complex));
  // Fix the phases so the distribution does not depend on the sign convention of QR.
  for (let j = 0; j < n; j++) {
    const rr = R.re[j * n + j];
    const ri = R.im ? R.im[j * n + j] : 0;
    const mag = Math.hypot(rr, ri) || 1;
    const pr = rr / mag;
    const pi = ri / mag;
    for (let i = 0; i < n; i++) {
      const qr_ = Q.re[i * n + j];
      const qi = Q.im ? Q.im[i * n + j] : 0;
      Q.re[i * n + j] = qr_ * pr - qi * pi;
      if (Q.im) Q.im[i * n + j] = qr_ * pi + qi * pr;
    }
  }
  return Q;
}

/**
 * A random Hermitian positive definite n×n matrix B Bᴴ/n + shift·I with B Gaussian; its condition
 * number is moderate (≈ (1+√1)²/shift-ish) unless `shift` is small.
 */
export function randomHpd(rng: Rng, n: number, complex = false, shift = 0.5): Matrix {
  const B = randomNormal(rng, n, n, complex);
  const G = matmul(B, conjTranspose(B));
  for (let k = 0; k < G.re.length; k++) G.re[k] /= n;
  if (G.im) for (let k = 0; k < G.im.length; k++) G.im[k] /= n;
  for (let i = 0; i < n; i++) G.re[i * n + i] += shift;
  // Exact Hermitian symmetry (the product is symmetric only up to rounding).
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < i; j++) {
      G.re[j * n + i] = G.re[i * n + j];
      if (G.im) G.im[j * n + i] = -G.im[i * n + j];
    }
    if (G.im) G.im[i * n + i] = 0;
  }
  cholesky(G, 'randomHpd'); // sanity: throws if rounding ever broke definiteness
  return G;
}
