// WebAssembly SIMD f32 kernels of riesz's dense-layer engine (AssemblyScript): the elementwise passes
// around the GEMMs of a training step, on buffers that stay in the shared linear memory. Every pointer
// is a byte address, every length counts f32 elements. The transcendental functions are f32x4
// polynomial approximations (Cephes' coefficients), accurate to a few f32 ulps; naive scalar
// references of every kernel are in src/nn/dense-engine.ts (`reference`), and the tests compare them.

// ---- f32x4 elementary functions ---------------------------------------------------------------

// exp(x) = 2ⁿ·exp(r), n = round(x/ln2), r = x − n·ln2 in two parts, exp(r) by a degree-6 polynomial.
@inline function exp4(x: v128): v128 {
  const c = f32x4.min(f32x4.max(x, f32x4.splat(-87.3)), f32x4.splat(88.3));
  const n = f32x4.nearest(f32x4.mul(c, f32x4.splat(1.44269504089)));
  let r = f32x4.sub(c, f32x4.mul(n, f32x4.splat(0.693359375)));
  r = f32x4.sub(r, f32x4.mul(n, f32x4.splat(-2.12194440e-4)));
  let p = f32x4.splat(1.9875691500e-4);
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(1.3981999507e-3));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(8.3334519073e-3));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(4.1665795894e-2));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(1.6666665459e-1));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(5.0000001201e-1));
  const y = f32x4.add(f32x4.add(f32x4.mul(f32x4.mul(p, r), r), r), f32x4.splat(1.0));
  // Multiply by 2ⁿ by adding n to the exponent bits.
  return i32x4.add(y, i32x4.shl(i32x4.trunc_sat_f32x4_s(n), 23));
}

// log1p(u) for u ∈ [0, 1]: 2·atanh(s) with s = u/(2 + u) ≤ 1/3, a series to s¹³ (no cancellation near 0).
@inline function log1p4(u: v128): v128 {
  const s = f32x4.div(u, f32x4.add(u, f32x4.splat(2.0)));
  const s2 = f32x4.mul(s, s);
  let p = f32x4.splat(<f32>(1.0 / 13.0));
  p = f32x4.add(f32x4.mul(p, s2), f32x4.splat(<f32>(1.0 / 11.0)));
  p = f32x4.add(f32x4.mul(p, s2), f32x4.splat(<f32>(1.0 / 9.0)));
  p = f32x4.add(f32x4.mul(p, s2), f32x4.splat(<f32>(1.0 / 7.0)));
  p = f32x4.add(f32x4.mul(p, s2), f32x4.splat(<f32>(1.0 / 5.0)));
  p = f32x4.add(f32x4.mul(p, s2), f32x4.splat(<f32>(1.0 / 3.0)));
  p = f32x4.add(f32x4.mul(p, s2), f32x4.splat(1.0));
  return f32x4.mul(f32x4.mul(p, s), f32x4.splat(2.0));
}

// tanh: an odd polynomial for |x| < 0.625, else (1 − e)/(1 + e) with e = exp(−2|x|), sign restored.
@inline function tanh4(x: v128): v128 {
  const ax = f32x4.abs(x);
  const z = f32x4.mul(x, x);
  let p = f32x4.splat(-5.70498872745e-3);
  p = f32x4.add(f32x4.mul(p, z), f32x4.splat(2.06390887954e-2));
  p = f32x4.add(f32x4.mul(p, z), f32x4.splat(-5.37397155531e-2));
  p = f32x4.add(f32x4.mul(p, z), f32x4.splat(1.33314422036e-1));
  p = f32x4.add(f32x4.mul(p, z), f32x4.splat(-3.33332819422e-1));
  const small = f32x4.add(f32x4.mul(f32x4.mul(p, z), x), x);
  const e = exp4(f32x4.mul(ax, f32x4.splat(-2.0)));
  const big = f32x4.div(f32x4.sub(f32x4.splat(1.0), e), f32x4.add(f32x4.splat(1.0), e));
  // Copy x's sign bit onto |tanh|.
  const signed = v128.or(big, v128.and(x, i32x4.splat(0x80000000)));
  return v128.bitselect(small, signed, f32x4.lt(ax, f32x4.splat(0.625)));
}

// σ(x) = 1/(1 + exp(−x)); exp4 saturates, so the ends are 0 and 1.
@inline function sigmoid4(x: v128): v128 {
  return f32x4.div(f32x4.splat(1.0), f32x4.add(f32x4.splat(1.0), exp4(f32x4.neg(x))));
}

// The activations, numbered as in src/nn/dense-engine.ts: 0 identity, 1 relu, 2 tanh, 3 sigmoid.
@inline function activate4(kind: i32, s: v128): v128 {
  if (kind == 1) return f32x4.max(s, f32x4.splat(0.0));
  if (kind == 2) return tanh4(s);
  if (kind == 3) return sigmoid4(s);
  return s;
}

// f'(s) from the activation's output y (relu: y > 0 exactly when s > 0).
@inline function derivative4(kind: i32, y: v128): v128 {
  if (kind == 1) return v128.and(f32x4.gt(y, f32x4.splat(0.0)), f32x4.splat(1.0));
  if (kind == 2) return f32x4.sub(f32x4.splat(1.0), f32x4.mul(y, y));
  if (kind == 3) return f32x4.mul(y, f32x4.sub(f32x4.splat(1.0), y));
  return f32x4.splat(1.0);
}

// Loads the n < 4 trailing values at p (zeros in the other lanes) and stores them back.
@inline function loadTail(p: usize, n: i32): v128 {
  let v = f32x4.splat(0.0);
  if (n > 0) v = f32x4.replace_lane(v, 0, load<f32>(p));
  if (n > 1) v = f32x4.replace_lane(v, 1, load<f32>(p, 4));
  if (n > 2) v = f32x4.replace_lane(v, 2, load<f32>(p, 8));
  return v;
}
@inline function storeTail(p: usize, n: i32, v: v128): void {
  if (n > 0) store<f32>(p, f32x4.extract_lane(v, 0));
  if (n > 1) store<f32>(p, f32x4.extract_lane(v, 1), 4);
  if (n > 2) store<f32>(p, f32x4.extract_lane(v, 2), 8);
}

// ---- kernels ----------------------------------------------------------------------------------

/** y ← f(y) in place over n values (the layer's pre-activations become its outputs). */
export function activate(kind: i32, y: usize, n: i32): void {
  if (kind == 0) return;
  let i: i32 = 0;
  for (; i + 4 <= n; i += 4) {
    const p = y + (<usize>i << 2);
    v128.store(p, activate4(kind, v128.load(p)));
  }
  const p = y + (<usize>i << 2);
  storeTail(p, n - i, activate4(kind, loadTail(p, n - i)));
}

/** d ← f'(s) ⊙ d in place, f' from the outputs y: ∂L/∂s from ∂L/∂y (also a forward-mode tangent). */
export function activationBackward(kind: i32, d: usize, y: usize, n: i32): void {
  if (kind == 0) return;
  let i: i32 = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    v128.store(d + o, f32x4.mul(v128.load(d + o), derivative4(kind, v128.load(y + o))));
  }
  const o = <usize>i << 2;
  storeTail(d + o, n - i, f32x4.mul(loadTail(d + o, n - i), derivative4(kind, loadTail(y + o, n - i))));
}

/** out[j] ← Σᵢ x[i, j] for x rows×cols (the bias gradient), summed in f32 row by row. */
export function columnSums(x: usize, rows: i32, cols: i32, out: usize): void {
  for (let j: i32 = 0; j < cols; j++) store<f32>(out + (<usize>j << 2), 0.0);
  for (let r: i32 = 0; r < rows; r++) {
    const row = x + (<usize>(r * cols) << 2);
    let j: i32 = 0;
    for (; j + 4 <= cols; j += 4) {
      const o = <usize>j << 2;
      v128.store(out + o, f32x4.add(v128.load(out + o), v128.load(row + o)));
    }
    for (; j < cols; j++) {
      const o = <usize>j << 2;
      store<f32>(out + o, load<f32>(out + o) + load<f32>(row + o));
    }
  }
}

/**
 * Sigmoid cross-entropy of logits z against targets t (rows×cols), summed: Σ softplus(z) − t·z, with
 * g ← scale·(σ(z) − t) (g may be z itself) and Σ (σ(z) − t)², the squared error of the predictive mean.
 * Writes the two sums as f64 at out and out + 8 (each row summed in f32, the rows in f64).
 */
export function sigmoidCrossEntropy(z: usize, t: usize, rows: i32, cols: i32, g: usize, scale: f32, out: usize): void {
  let loss: f64 = 0;
  let sq: f64 = 0;
  const one = f32x4.splat(1.0);
  const sc = f32x4.splat(scale);
  for (let r: i32 = 0; r < rows; r++) {
    let lv = f32x4.splat(0.0);
    let sv = f32x4.splat(0.0);
    const base = <usize>(r * cols) << 2;
    for (let j: i32 = 0; j < cols; j += 4) {
      const n = min(4, cols - j);
      const o = base + (<usize>j << 2);
      const zv = n == 4 ? v128.load(z + o) : loadTail(z + o, n);
      const tv = n == 4 ? v128.load(t + o) : loadTail(t + o, n);
      const e = exp4(f32x4.neg(f32x4.abs(zv)));
      // softplus(z) = max(z, 0) + log1p(e); σ(z) = 1/(1 + e) for z ≥ 0, e/(1 + e) below.
      const l = f32x4.sub(f32x4.add(f32x4.max(zv, f32x4.splat(0.0)), log1p4(e)), f32x4.mul(tv, zv));
      const inv = f32x4.div(one, f32x4.add(one, e));
      const s = v128.bitselect(inv, f32x4.mul(e, inv), f32x4.ge(zv, f32x4.splat(0.0)));
      const diff = f32x4.sub(s, tv);
      if (n == 4) {
        lv = f32x4.add(lv, l);
        sv = f32x4.add(sv, f32x4.mul(diff, diff));
        v128.store(g + o, f32x4.mul(diff, sc));
      } else {
        // Only the valid lanes count (the others hold z = t = 0, whose loss is log 2).
        for (let k: i32 = 0; k < n; k++) {
          const lk = k == 0 ? f32x4.extract_lane(l, 0) : k == 1 ? f32x4.extract_lane(l, 1) : f32x4.extract_lane(l, 2);
          const dk = k == 0 ? f32x4.extract_lane(diff, 0) : k == 1 ? f32x4.extract_lane(diff, 1) : f32x4.extract_lane(diff, 2);
          loss += lk;
          sq += dk * dk;
        }
        storeTail(g + o, n, f32x4.mul(diff, sc));
      }
    }
    loss += <f64>(f32x4.extract_lane(lv, 0) + f32x4.extract_lane(lv, 1)) + <f64>(f32x4.extract_lane(lv, 2) + f32x4.extract_lane(lv, 3));
    sq += <f64>(f32x4.extract_lane(sv, 0) + f32x4.extract_lane(sv, 1)) + <f64>(f32x4.extract_lane(sv, 2) + f32x4.extract_lane(sv, 3));
  }
  store<f64>(out, loss);
  store<f64>(out, sq, 8);
}

/** σ(z) in place over n values (the Bernoulli means that K-FAC's sampled targets draw from). */
export function sigmoid(z: usize, n: i32): void {
  activate(3, z, n);
}

/**
 * Σ σ(z)(1 − σ(z))·d², the sigmoid cross-entropy's Fisher quadratic form (summed over the batch) of
 * an output change d, as f64 at out.
 */
export function sigmoidFisherQuadratic(z: usize, d: usize, n: i32, out: usize): void {
  let acc = f32x4.splat(0.0);
  let total: f64 = 0;
  let i: i32 = 0;
  for (; i < n; i += 4) {
    const k = min(4, n - i);
    const o = <usize>i << 2;
    const s = sigmoid4(k == 4 ? v128.load(z + o) : loadTail(z + o, k));
    const dv = k == 4 ? v128.load(d + o) : loadTail(d + o, k);
    acc = f32x4.add(acc, f32x4.mul(f32x4.mul(s, f32x4.sub(f32x4.splat(1.0), s)), f32x4.mul(dv, dv)));
    // Flush the f32 partial sums into f64 every 4096 values.
    if ((i & 4095) == 4092 || i + 4 >= n) {
      total += <f64>(f32x4.extract_lane(acc, 0) + f32x4.extract_lane(acc, 1)) + <f64>(f32x4.extract_lane(acc, 2) + f32x4.extract_lane(acc, 3));
      acc = f32x4.splat(0.0);
    }
  }
  store<f64>(out, total);
}

// ---- optimizer updates ------------------------------------------------------------------------
// One pass over the parameters that updates the moments in place and writes the update u (which the
// training step adds to the parameters), in the order of operations of the jax-js chains it stands
// for (optim/base.ts: scaleByAdam, addDecayedWeights, scaleByLearningRate; traceMomentum,
// scaleByLearningRate), with the same f32 coefficients, so that both round alike. jax-js divides
// as x·(1/y), the reciprocal rounded to f32: so do these. The scalar tails repeat the SIMD body
// lane by lane.

/**
 * Adam on n parameters: m ← b1·m + a1·g, v ← b2·v + a2·g², d = (m·r1)·1/(√(v·r2) + ε) and
 * u = (d + wd·p)·nlr, or u = d·nlr when wd is 0 (p is then not read). a1 = 1 − b1, a2 = 1 − b2,
 * the reciprocals r1 = 1/c1, r2 = 1/c2 of the bias corrections c1 = 1 − b1ᵗ, c2 = 1 − b2ᵗ, and
 * nlr = −lr come from the caller.
 */
export function adamUpdate(
  p: usize,
  g: usize,
  m: usize,
  v: usize,
  u: usize,
  n: i32,
  b1: f32,
  a1: f32,
  b2: f32,
  a2: f32,
  eps: f32,
  r1: f32,
  r2: f32,
  wd: f32,
  nlr: f32,
): void {
  const vb1 = f32x4.splat(b1);
  const va1 = f32x4.splat(a1);
  const vb2 = f32x4.splat(b2);
  const va2 = f32x4.splat(a2);
  const vr1 = f32x4.splat(r1);
  const vr2 = f32x4.splat(r2);
  const one = f32x4.splat(1.0);
  const veps = f32x4.splat(eps);
  const vwd = f32x4.splat(wd);
  const vlr = f32x4.splat(nlr);
  const decay = wd != 0;
  let i: i32 = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    const gv = v128.load(g + o);
    const mv = f32x4.add(f32x4.mul(v128.load(m + o), vb1), f32x4.mul(gv, va1));
    const vv = f32x4.add(f32x4.mul(v128.load(v + o), vb2), f32x4.mul(f32x4.mul(gv, gv), va2));
    let d = f32x4.mul(f32x4.mul(mv, vr1), f32x4.div(one, f32x4.add(f32x4.sqrt(f32x4.mul(vv, vr2)), veps)));
    if (decay) d = f32x4.add(d, f32x4.mul(v128.load(p + o), vwd));
    v128.store(m + o, mv);
    v128.store(v + o, vv);
    v128.store(u + o, f32x4.mul(d, vlr));
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    const gs = load<f32>(g + o);
    const ms = load<f32>(m + o) * b1 + gs * a1;
    const vs = load<f32>(v + o) * b2 + gs * gs * a2;
    let d = ms * r1 * (<f32>1.0 / (sqrt<f32>(vs * r2) + eps));
    if (decay) d = d + load<f32>(p + o) * wd;
    store<f32>(m + o, ms);
    store<f32>(v + o, vs);
    store<f32>(u + o, d * nlr);
  }
}

/**
 * Heavy-ball momentum on n parameters: m ← decay·m + g, u = m·nlr, or u = (g + decay·m)·nlr with
 * Nesterov (nesterov ≠ 0); nlr = −lr.
 */
export function momentumUpdate(g: usize, m: usize, u: usize, n: i32, decay: f32, nlr: f32, nesterov: i32): void {
  const vd = f32x4.splat(decay);
  const vlr = f32x4.splat(nlr);
  let i: i32 = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    const gv = v128.load(g + o);
    const mv = f32x4.add(f32x4.mul(v128.load(m + o), vd), gv);
    v128.store(m + o, mv);
    v128.store(u + o, f32x4.mul(nesterov != 0 ? f32x4.add(gv, f32x4.mul(mv, vd)) : mv, vlr));
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    const gs = load<f32>(g + o);
    const ms = load<f32>(m + o) * decay + gs;
    store<f32>(m + o, ms);
    store<f32>(u + o, (nesterov != 0 ? gs + ms * decay : ms) * nlr);
  }
}

/** First free byte after the module's static data. */
export function denseHeapBase(): usize {
  return __heap_base;
}
