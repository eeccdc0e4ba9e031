/**
 * The problem every training peer of bench/train solves, handed over as plain host arrays so that
 * each peer starts from riesz's own initial weights and batch: an MLP whose outputs are logits of a
 * sigmoid cross-entropy against the input itself (the autoencoder; loss = mean over the batch of
 * Σⱼ softplus(zⱼ) − xⱼzⱼ), trained by Adam (β = 0.9, 0.999, ε = 1e-8, bias-corrected) on the gradient
 * of the loss plus ½·l2‖θ‖² (l2·θ added to the gradient, PyTorch's `weight_decay`).
 *
 * Each peer reports the data loss (no L2 term) at the initial weights, `loss0`, and after one Adam
 * step on the batch, `loss1`, so that bench/train can check it computes what riesz computes.
 */
import { writeFileSync } from 'node:fs';

/** A layer's activation in a peer (the autoencoder uses tanh with a linear code; the output is linear). */
export type PeerActivation = 'tanh' | 'sigmoid' | 'identity';

/** The model, its initial weights and one batch, as host arrays. */
export interface PeerProblem {
  /** Layer widths, input first. */
  sizes: number[];
  /** One activation per layer (sizes.length − 1 of them, the output's last). */
  activations: PeerActivation[];
  /** Weights of layer i, [sizes[i+1], sizes[i]] row-major (riesz's layout: y = x·Wᵀ + b). */
  weights: Float32Array[];
  /** Biases of layer i, sizes[i+1] entries. */
  biases: Float32Array[];
  /** The batch, [batch, sizes[0]] row-major; also the targets. */
  x: Float32Array;
  batch: number;
  /** Adam's step size. */
  lr: number;
  /** η of the objective's ½η‖θ‖². */
  l2: number;
}

/** What a peer measured. */
export interface PeerResult {
  /** The data loss at the initial weights. */
  loss0: number;
  /** The data loss after one Adam step on the batch. */
  loss1: number;
  /** Wall time of each timed step after the warm-up, seconds. */
  stepS: number[];
  /** How it ran (backend, threads, SIMD), in words. */
  setup: string;
}

/** Checks the problem's shapes (a peer's arrays must agree with its widths). */
export function checkProblem(p: PeerProblem): void {
  const L = p.sizes.length - 1;
  if (p.activations.length !== L || p.weights.length !== L || p.biases.length !== L)
    throw new RangeError(
      `peer problem: ${L} layers, but ${p.activations.length} activations, ${p.weights.length} weights, ${p.biases.length} biases`,
    );
  for (let i = 0; i < L; i++) {
    if (p.weights[i].length !== p.sizes[i] * p.sizes[i + 1] || p.biases[i].length !== p.sizes[i + 1])
      throw new RangeError(`peer problem: layer ${i} should be ${p.sizes[i + 1]}×${p.sizes[i]}`);
  }
  if (p.x.length !== p.batch * p.sizes[0] || p.sizes[L] !== p.sizes[0])
    throw new RangeError(
      `peer problem: the batch should be ${p.batch}×${p.sizes[0]} and the output as wide as the input`,
    );
}

/**
 * Writes the problem for the PyTorch peer: raw little-endian f32, W₀ b₀ W₁ b₁ … then the batch (the
 * widths, activations and batch size travel on its command line).
 */
export function writeProblemFile(p: PeerProblem, path: string): void {
  checkProblem(p);
  const parts: Float32Array[] = [];
  for (let i = 0; i < p.weights.length; i++) parts.push(p.weights[i], p.biases[i]);
  parts.push(p.x);
  const total = parts.reduce((n, a) => n + a.length, 0);
  const all = new Float32Array(total);
  let at = 0;
  for (const a of parts) {
    all.set(a, at);
    at += a.length;
  }
  writeFileSync(path, Buffer.from(all.buffer, all.byteOffset, all.byteLength));
}

/** Median of a non-empty list. */
export const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
