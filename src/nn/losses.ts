/**
 * Losses that declare their predictive distribution, so that K-FAC's output factor can use targets
 * sampled from the model (the true Fisher) rather than the data labels (the empirical Fisher).
 * Each is a mean over the batch of per-example losses ℓᵢ; `grad` returns ∂L/∂outputs for that mean.
 *
 * | loss | ℓ(z, t) | predictive distribution |
 * |---|---|---|
 * | softmaxCrossEntropy | −log softmax(z)_t | Categorical(softmax z) |
 * | sigmoidCrossEntropy | Σⱼ softplus(zⱼ) − tⱼzⱼ | Bernoulli(σ(zⱼ)) per output |
 * | squaredError | ½‖z − t‖² | N(z, I) |
 *
 * All functions consume their array arguments.
 */
import { nn, numpy as np, random } from '@jax-js/jax';
import type { Tensor } from '../backend/taps.js';

/** A mean-over-the-batch loss with its gradient and its predictive distribution (sampling and
 * Fisher quadratic form), as K-FAC's true Fisher needs. */
export interface Loss {
  readonly name: 'softmax-cross-entropy' | 'sigmoid-cross-entropy' | 'squared-error';
  /** Mean loss over the batch (a scalar array). */
  value(outputs: Tensor, targets: Tensor): Tensor;
  /** ∂(mean loss)/∂outputs. */
  grad(outputs: Tensor, targets: Tensor): Tensor;
  /** Targets drawn from the model's predictive distribution at `outputs`. */
  sample(key: Tensor, outputs: Tensor): Tensor;
  /**
   * Mean over the batch of dᵢᵀ Fᵢ dᵢ, Fᵢ the Fisher of the predictive distribution in the outputs
   * (the Hessian of ℓ in z for these losses) and dᵢ a row of `dOut` (a change of the outputs).
   */
  fisherQuadratic(outputs: Tensor, dOut: Tensor): Tensor;
  /**
   * Mean over the batch of the squared error of the predictive mean, summed over outputs (the
   * autoencoder's reported "error"); defined where that mean is not the outputs themselves.
   */
  squaredError?(outputs: Tensor, targets: Tensor): Tensor;
}

/** Cross-entropy of logits z (B×C) against integer class labels t (B, int32). */
export const softmaxCrossEntropy: Loss = {
  name: 'softmax-cross-entropy',
  value(z, t) {
    const C = z.shape[1];
    return np.mean(np.sum(nn.logSoftmax(z, -1).mul(nn.oneHot(t, C)), -1)).mul(-1);
  },
  grad(z, t) {
    const [B, C] = z.shape;
    return nn.softmax(z, -1).sub(nn.oneHot(t, C)).div(B);
  },
  sample(key, z) {
    return random.categorical(key, z);
  },
  fisherQuadratic(z, d) {
    // F = diag(p) − ppᵀ:  dᵀFd = Σ p d² − (Σ p d)².
    const p = nn.softmax(z, -1);
    const pd = np.sum(p.ref.mul(d.ref), -1);
    return np.mean(np.sum(p.mul(np.square(d)), -1).sub(np.square(pd)));
  },
};

/** Independent Bernoulli outputs: logits z (B×D), targets t ∈ [0, 1] (B×D). */
export const sigmoidCrossEntropy: Loss = {
  name: 'sigmoid-cross-entropy',
  value(z, t) {
    return np.mean(np.sum(nn.softplus(z.ref).sub(t.mul(z)), -1));
  },
  grad(z, t) {
    const B = z.shape[0];
    return nn.sigmoid(z).sub(t).div(B);
  },
  sample(key, z) {
    return random.bernoulli(key, nn.sigmoid(z)).astype(np.float32);
  },
  fisherQuadratic(z, d) {
    // F = diag(σ(1 − σ)).
    const s = nn.sigmoid(z);
    return np.mean(np.sum(s.ref.mul(np.ones(s.shape).sub(s)).mul(np.square(d)), -1));
  },
  squaredError(z, t) {
    return np.mean(np.sum(np.square(nn.sigmoid(z).sub(t)), -1));
  },
};

/** Gaussian outputs with unit variance: ½‖z − t‖² per example. */
export const squaredError: Loss = {
  name: 'squared-error',
  value(z, t) {
    return np.mean(np.sum(np.square(z.sub(t)), -1)).mul(0.5);
  },
  grad(z, t) {
    const B = z.shape[0];
    return z.sub(t).div(B);
  },
  sample(key, z) {
    return z.ref.add(random.normal(key, z.shape));
  },
  fisherQuadratic(z, d) {
    z.dispose();
    return np.mean(np.sum(np.square(d), -1));
  },
};
