/**
 * Plain jax-js peer for bench/train: the problem's MLP written in jax-js ops (no riesz code), its
 * loss differentiated by `valueAndGrad`, Adam written in jax-js ops, and the whole step — forward,
 * backward and update — compiled by `jit` on jax-js's default device (wasm in bench/train). This is
 * what a user of jax-js alone would write; riesz's eager path sends products to its own kernels.
 */
import { defaultDevice, jit, nn, numpy as np, tree, valueAndGrad } from '@jax-js/jax';
import { checkProblem, type PeerActivation, type PeerProblem, type PeerResult } from './problem.js';

type Params = { w: np.Array[]; b: np.Array[] };

function activate(kind: PeerActivation, z: np.Array): np.Array {
  if (kind === 'tanh') return np.tanh(z);
  if (kind === 'sigmoid') return nn.sigmoid(z);
  return z;
}

/** Mean over the batch of Σⱼ softplus(zⱼ) − xⱼzⱼ, z the logits of the net at x (consumes all). */
function lossOf(acts: PeerActivation[]) {
  return (p: Params, x: np.Array): np.Array => {
    let h = x.ref;
    for (let i = 0; i < p.w.length; i++)
      h = activate(acts[i], np.matmul(h, np.transpose(p.w[i])).add(p.b[i]));
    return np.mean(np.sum(nn.softplus(h.ref).sub(x.mul(h)), -1));
  };
}

const B1 = 0.9;
const B2 = 0.999;
const EPS = 1e-8;

/**
 * Runs `warmup` untimed steps then `steps` timed ones of Adam on the problem's batch (two at least);
 * the first step compiles. Returns the losses at the initial weights and after one step, and the step times.
 */
export function runJaxjsPeer(problem: PeerProblem, steps: number, warmup = 1): PeerResult {
  checkProblem(problem);
  const L = problem.weights.length;
  const shape = (i: number) => [problem.sizes[i + 1], problem.sizes[i]];
  let p: Params = {
    w: problem.weights.map((w, i) => np.array(w).reshape(shape(i))),
    b: problem.biases.map((b) => np.array(b)),
  };
  let m: Params = { w: p.w.map((w) => np.zerosLike(w.ref)), b: p.b.map((b) => np.zerosLike(b.ref)) };
  let v: Params = { w: p.w.map((w) => np.zerosLike(w.ref)), b: p.b.map((b) => np.zerosLike(b.ref)) };
  const x = np.array(problem.x).reshape([problem.batch, problem.sizes[0]]);
  const { lr, l2 } = problem;
  const loss = lossOf(problem.activations);
  // c holds [lr/(1 − β₁ᵗ), 1/(1 − β₂ᵗ)] as arrays, so that the step is traced once for every t.
  const step = jit((p: Params, m: Params, v: Params, x: np.Array, c1: np.Array, c2: np.Array) => {
    const [value, g] = valueAndGrad(loss)(tree.ref(p), x);
    const out: [np.Array, Params, Params, Params] = [
      value,
      { w: [], b: [] },
      { w: [], b: [] },
      { w: [], b: [] },
    ];
    for (const k of ['w', 'b'] as const) {
      for (let i = 0; i < L; i++) {
        const gi = l2 > 0 ? g[k][i].add(p[k][i].ref.mul(l2)) : g[k][i];
        const mi = m[k][i].mul(B1).add(gi.ref.mul(1 - B1));
        const vi = v[k][i].mul(B2).add(np.square(gi).mul(1 - B2));
        const u = mi.ref.mul(c1.ref).div(np.sqrt(vi.ref.mul(c2.ref)).add(EPS));
        out[1][k].push(p[k][i].sub(u));
        out[2][k].push(mi);
        out[3][k].push(vi);
      }
    }
    c1.dispose();
    c2.dispose();
    return out;
  });
  const stepS: number[] = [];
  let loss0 = Number.NaN;
  let loss1 = Number.NaN;
  const total = Math.max(warmup + steps, 2);
  for (let t = 1; t <= total; t++) {
    const t0 = performance.now();
    const c1 = np.array(lr / (1 - B1 ** t));
    const c2 = np.array(1 / (1 - B2 ** t));
    const [value, p2, m2, v2] = step(p, m, v, x.ref, c1, c2);
    const l = (value.dataSync() as Float32Array)[0];
    (p2.w[0].ref.dataSync() as Float32Array)[0]; // wait for the update too
    if (t > total - steps) stepS.push((performance.now() - t0) / 1000);
    if (t === 1) loss0 = l;
    if (t === 2) loss1 = l;
    [p, m, v] = [p2, m2, v2];
  }
  tree.dispose([p, m, v]);
  x.dispose();
  step.dispose();
  return { loss0, loss1, stepS, setup: `jax-js ${defaultDevice()}, jit of loss, grad and Adam` };
}
