// WebAssembly SIMD kernels for the real symmetric eigensolver (src/linalg/eigh.ts), AssemblyScript.
// A second module over the same shared memory as asm/kernels.ts; row-major f64, byte pointers.
// It has no static data, so it never writes below the GEMM module's heap base.
//
// sytrd: Householder tridiagonalisation, unblocked but *fused*: the rank-2 update of step k−1 and the
// symmetric matrix-vector product of step k share one pass over the trailing lower triangle, so each
// step streams the matrix once (the reduction is memory-bound; a separate symv and syr2 would stream
// it twice or three times).

@inline function ld(p: usize, i: i32): f64 {
  return load<f64>(p + (<usize>i << 3));
}
@inline function st(p: usize, i: i32, v: f64): void {
  store<f64>(p + (<usize>i << 3), v);
}

/** First free byte after the module's static data (none: this is the runtime's base). */
export function eighHeapBase(): usize {
  return __heap_base;
}

/**
 * Reduces the symmetric n×n matrix at `a` (lower triangle read, row-major) to tridiagonal form
 * Qᵀ A Q = T. Writes d (n) and e (n−1, e[i] = T[i+1, i]), and the reflectors H_k = I − τ_k v vᵀ
 * (k < n−2, v[0..k] = 0, v[k+1] = 1) with v's tail in row k's strict upper part (a[k, k+1:]) and τ_k
 * at tau[k]; Q = H_0 H_1 ⋯ H_{n−3}. `work` holds 4n f64.
 */
export function sytrd(n: i32, a: usize, d: usize, e: usize, tau: usize, work: usize): void {
  if (n <= 0) return;
  const nn = <usize>n;
  let vp = work; // pending update (v, w) of the previous step, global row indices
  let wp = work + (nn << 3);
  let v = work + (nn << 4);
  const y = work + nn * 24;
  memory.fill(work, 0, nn << 5);
  const rowBytes = nn << 3;
  for (let k: i32 = 0; k < n - 2; k++) {
    // Bring column k (rows k…n−1) up to date with the pending update.
    const vk = ld(vp, k);
    const wk = ld(wp, k);
    let amax: f64 = 0;
    for (let r: i32 = k; r < n; r++) {
      const p = a + <usize>r * rowBytes + (<usize>k << 3);
      const x = load<f64>(p) - ld(vp, r) * wk - ld(wp, r) * vk;
      store<f64>(p, x);
      if (r > k) amax = max(amax, abs(x));
    }
    st(d, k, load<f64>(a + <usize>k * rowBytes + (<usize>k << 3)));
    // Reflector for x = a[k+1:, k]; the norm is scaled so that huge or tiny entries do not overflow.
    const x0 = load<f64>(a + <usize>(k + 1) * rowBytes + (<usize>k << 3));
    let ss: f64 = 0;
    if (amax > 0) {
      const inv = 1.0 / amax;
      for (let r: i32 = k + 1; r < n; r++) {
        const t = load<f64>(a + <usize>r * rowBytes + (<usize>k << 3)) * inv;
        ss += t * t;
      }
    }
    const alpha = amax * sqrt(ss);
    const vrow = a + <usize>k * rowBytes; // v is kept in row k's upper part
    let t: f64 = 0;
    if (alpha == 0 || alpha == abs(x0)) {
      // Already reduced in this column (up to rounding): H = I.
      st(e, k, x0);
      for (let r: i32 = k + 1; r < n; r++) {
        st(v, r, 0);
        st(vrow, r, 0);
      }
    } else {
      const s: f64 = x0 >= 0 ? 1 : -1;
      const u0 = x0 + s * alpha;
      const inv = 1.0 / u0;
      st(e, k, -s * alpha);
      t = (alpha + abs(x0)) / alpha;
      st(v, k + 1, 1);
      st(vrow, k + 1, 1);
      for (let r: i32 = k + 2; r < n; r++) {
        const vr = load<f64>(a + <usize>r * rowBytes + (<usize>k << 3)) * inv;
        st(v, r, vr);
        st(vrow, r, vr);
      }
    }
    st(tau, k, t);
    // Fused pass over the lower triangle of B = a[k+1:, k+1:]: B ← B − v_p w_pᵀ − w_p v_pᵀ, y = B v.
    const c0 = k + 1;
    memory.fill(y + (<usize>c0 << 3), 0, <usize>(n - c0) << 3);
    let r = c0;
    // Rows in pairs: the vector loads and the y update are shared, and four accumulators break the
    // dependency chain of the dot products.
    for (; r + 1 < n; r += 2) {
      const row0 = a + <usize>r * rowBytes;
      const row1 = row0 + rowBytes;
      const pv0 = ld(vp, r);
      const pw0 = ld(wp, r);
      const v0 = ld(v, r);
      const pv1 = ld(vp, r + 1);
      const pw1 = ld(wp, r + 1);
      const v1 = ld(v, r + 1);
      const spv0 = f64x2.splat(pv0);
      const spw0 = f64x2.splat(pw0);
      const sv0 = f64x2.splat(v0);
      const spv1 = f64x2.splat(pv1);
      const spw1 = f64x2.splat(pw1);
      const sv1 = f64x2.splat(v1);
      let acc0 = f64x2.splat(0);
      let acc1 = f64x2.splat(0);
      let acc2 = f64x2.splat(0);
      let acc3 = f64x2.splat(0);
      let c = c0;
      for (; c + 3 < r; c += 4) {
        const off = <usize>c << 3;
        const wa = v128.load(wp + off);
        const wb = v128.load(wp + off, 16);
        const pa = v128.load(vp + off);
        const pb = v128.load(vp + off, 16);
        const va = v128.load(v + off);
        const vb = v128.load(v + off, 16);
        let xa = v128.load(row0 + off);
        let xb = v128.load(row0 + off, 16);
        let za = v128.load(row1 + off);
        let zb = v128.load(row1 + off, 16);
        xa = f64x2.sub(f64x2.sub(xa, f64x2.mul(spv0, wa)), f64x2.mul(spw0, pa));
        xb = f64x2.sub(f64x2.sub(xb, f64x2.mul(spv0, wb)), f64x2.mul(spw0, pb));
        za = f64x2.sub(f64x2.sub(za, f64x2.mul(spv1, wa)), f64x2.mul(spw1, pa));
        zb = f64x2.sub(f64x2.sub(zb, f64x2.mul(spv1, wb)), f64x2.mul(spw1, pb));
        v128.store(row0 + off, xa);
        v128.store(row0 + off, xb, 16);
        v128.store(row1 + off, za);
        v128.store(row1 + off, zb, 16);
        acc0 = f64x2.add(acc0, f64x2.mul(xa, va));
        acc1 = f64x2.add(acc1, f64x2.mul(xb, vb));
        acc2 = f64x2.add(acc2, f64x2.mul(za, va));
        acc3 = f64x2.add(acc3, f64x2.mul(zb, vb));
        const ya = f64x2.add(f64x2.mul(xa, sv0), f64x2.mul(za, sv1));
        const yb = f64x2.add(f64x2.mul(xb, sv0), f64x2.mul(zb, sv1));
        v128.store(y + off, f64x2.add(v128.load(y + off), ya));
        v128.store(y + off, f64x2.add(v128.load(y + off, 16), yb), 16);
      }
      acc0 = f64x2.add(acc0, acc1);
      acc2 = f64x2.add(acc2, acc3);
      let s0 = f64x2.extract_lane(acc0, 0) + f64x2.extract_lane(acc0, 1);
      let s1 = f64x2.extract_lane(acc2, 0) + f64x2.extract_lane(acc2, 1);
      for (; c < r; c++) {
        const off = <usize>c << 3;
        const wc = load<f64>(wp + off);
        const pc = load<f64>(vp + off);
        const vc = load<f64>(v + off);
        const x = load<f64>(row0 + off) - pv0 * wc - pw0 * pc;
        const z = load<f64>(row1 + off) - pv1 * wc - pw1 * pc;
        store<f64>(row0 + off, x);
        store<f64>(row1 + off, z);
        s0 += x * vc;
        s1 += z * vc;
        store<f64>(y + off, load<f64>(y + off) + x * v0 + z * v1);
      }
      // Column r (row r's diagonal, row r+1's last off-diagonal) and row r+1's diagonal.
      const off = <usize>r << 3;
      const x = load<f64>(row0 + off) - 2 * pv0 * pw0;
      const z = load<f64>(row1 + off) - pv1 * pw0 - pw1 * pv0;
      const zz = load<f64>(row1 + off + 8) - 2 * pv1 * pw1;
      store<f64>(row0 + off, x);
      store<f64>(row1 + off, z);
      store<f64>(row1 + off + 8, zz);
      store<f64>(y + off, load<f64>(y + off) + s0 + x * v0 + z * v1);
      store<f64>(y + off + 8, load<f64>(y + off + 8) + s1 + z * v0 + zz * v1);
    }
    if (r < n) {
      // The odd row left over.
      const row = a + <usize>r * rowBytes;
      const pvr = ld(vp, r);
      const pwr = ld(wp, r);
      const vr = ld(v, r);
      let sacc: f64 = 0;
      for (let c = c0; c < r; c++) {
        const off = <usize>c << 3;
        const x = load<f64>(row + off) - pvr * load<f64>(wp + off) - pwr * load<f64>(vp + off);
        store<f64>(row + off, x);
        sacc += x * load<f64>(v + off);
        store<f64>(y + off, load<f64>(y + off) + x * vr);
      }
      const dOff = <usize>r << 3;
      const diag = load<f64>(row + dOff) - 2 * pvr * pwr;
      store<f64>(row + dOff, diag);
      store<f64>(y + dOff, load<f64>(y + dOff) + sacc + diag * vr);
    }
    // w = τ y − (τ² vᵀy / 2) v, written over the old w_p; v becomes the pending v.
    let vy: f64 = 0;
    for (let r: i32 = c0; r < n; r++) vy += ld(v, r) * ld(y, r);
    const K = (t * t * vy) / 2;
    for (let r: i32 = c0; r < n; r++) st(wp, r, t * ld(y, r) - K * ld(v, r));
    const tmp = vp;
    vp = v;
    v = tmp;
  }
  // The last 2×2 block (n ≥ 2) still owes the pending update.
  const k = n - 2;
  if (k >= 0) {
    for (let r: i32 = k; r < n; r++) {
      for (let c: i32 = k; c <= r; c++) {
        const p = a + <usize>r * rowBytes + (<usize>c << 3);
        store<f64>(p, load<f64>(p) - ld(vp, r) * ld(wp, c) - ld(wp, r) * ld(vp, c));
      }
    }
    st(d, k, load<f64>(a + <usize>k * rowBytes + (<usize>k << 3)));
    st(e, k, load<f64>(a + <usize>(k + 1) * rowBytes + (<usize>k << 3)));
  }
  st(d, n - 1, load<f64>(a + <usize>(n - 1) * rowBytes + (<usize>(n - 1) << 3)));
}

// ---- divide and conquer: the secular equation -------------------------------------------------

const EPS: f64 = 2.220446049250313e-16;

@inline function ldi(p: usize, i: i32): i32 {
  return load<i32>(p + (<usize>i << 2));
}

/**
 * Roots of 1/ρ + Σᵢ ζᵢ²/(δᵢ − λ) = 0 for the k ≥ 2 strictly ascending poles δ (`dd`) and nonzero ζ
 * (`zz`), ρ > 0: root j lies in (δⱼ, δⱼ₊₁), the last in (δ_{k−1}, δ_{k−1} + ρ‖ζ‖²]. Root j is returned
 * as origin index org[j] (i32) and offset off[j], λⱼ = δ[org[j]] + off[j], the origin being the nearer
 * pole so that δᵢ − λⱼ = (δᵢ − δ_org) − off is accurate. Each step models ψ (poles up to the split)
 * and φ (beyond) with one pole each at the poles bracketing the root and solves the model exactly,
 * inside a bisection bracket. `sh` is k f64 of scratch.
 */
export function secular(k: i32, dd: usize, zz: usize, rho: f64, sh: usize, org: usize, off: usize): void {
  const rinv = 1.0 / rho;
  let zz2: f64 = 0;
  for (let i: i32 = 0; i < k; i++) zz2 += ld(zz, i) * ld(zz, i);
  for (let j: i32 = 0; j < k; j++) {
    let o: i32;
    let lo: f64;
    let hi: f64;
    let tau: f64;
    let sp: i32;
    if (j < k - 1) {
      const dj = ld(dd, j);
      const mid = (ld(dd, j + 1) - dj) / 2;
      let g = rinv;
      for (let i: i32 = 0; i < k; i++) {
        const z = ld(zz, i);
        g += (z * z) / (ld(dd, i) - dj - mid);
      }
      if (g >= 0) {
        o = j;
        lo = 0;
        hi = mid;
        tau = mid;
      } else {
        o = j + 1;
        lo = -mid;
        tau = -mid;
        hi = 0;
      }
      sp = j;
    } else {
      o = k - 1;
      lo = 0;
      hi = rho * zz2;
      tau = hi;
      sp = k - 2;
    }
    const dor = ld(dd, o);
    for (let i: i32 = 0; i < k; i++) st(sh, i, ld(dd, i) - dor);
    for (let it: i32 = 0; it < 200; it++) {
      let psi: f64 = 0;
      let dpsi: f64 = 0;
      let phi: f64 = 0;
      let dphi: f64 = 0;
      for (let i: i32 = 0; i <= sp; i++) {
        const z = ld(zz, i);
        const r = z / (ld(sh, i) - tau);
        psi += z * r;
        dpsi += r * r;
      }
      for (let i: i32 = sp + 1; i < k; i++) {
        const z = ld(zz, i);
        const r = z / (ld(sh, i) - tau);
        phi += z * r;
        dphi += r * r;
      }
      const g = rinv + psi + phi;
      const bound = 8 * EPS * (rinv + abs(psi) + abs(phi)) + EPS * abs(tau) * (dpsi + dphi);
      if (abs(g) <= bound) break;
      if (g < 0) lo = tau;
      else hi = tau;
      // Model c + P/(a − s) + Q/(b − s), a and b the bracketing poles relative to τ.
      const a = ld(sh, sp) - tau;
      const b = ld(sh, sp + 1) - tau;
      const P = dpsi * a * a;
      const Q = dphi * b * b;
      const c = rinv + psi - P / a + phi - Q / b;
      const B = c * (a + b) + P + Q;
      const C = a * b * g;
      let next: f64;
      if (c == 0) next = tau + C / B;
      else {
        const root = sqrt(max(0.0, B * B - 4 * c * C));
        const q = B >= 0 ? (B + root) / 2 : (B - root) / 2;
        next = tau + C / q;
        if (!(next > lo && next < hi)) next = tau + q / c;
      }
      if (!(next > lo && next < hi)) next = (lo + hi) / 2;
      if (next == tau) break;
      tau = next;
    }
    store<i32>(org + (<usize>j << 2), o);
    st(off, j, tau);
  }
}

/**
 * The eigenvectors of diag(δ) + ρ ζ̂ ζ̂ᵀ for the roots from `secular`, with ζ̂ recomputed from the
 * roots (Gu–Eisenstat: the roots are then exact for ζ̂ and the vectors orthogonal to working
 * precision, however close the roots): column j of the k×k `u` is ζ̂ᵢ/(δᵢ − λⱼ) normalised, and its
 * row i is stored at row pos[i] (i32). `zhat` and `norms` are k f64 of scratch each.
 */
export function secularVectors(
  k: i32, dd: usize, zz: usize, rho: f64, org: usize, off: usize, pos: usize, u: usize, zhat: usize, norms: usize,
): void {
  for (let i: i32 = 0; i < k; i++) {
    const di = ld(dd, i);
    // δᵢ − λⱼ = (δᵢ − δ_org(j)) − off(j)
    let w = -(di - ld(dd, ldi(org, k - 1)) - ld(off, k - 1)) / rho;
    for (let j: i32 = 0; j < i; j++) w *= (di - ld(dd, ldi(org, j)) - ld(off, j)) / (di - ld(dd, j));
    for (let j: i32 = i; j < k - 1; j++) w *= -(di - ld(dd, ldi(org, j)) - ld(off, j)) / (ld(dd, j + 1) - di);
    const s: f64 = ld(zz, i) >= 0 ? 1 : -1;
    st(zhat, i, s * sqrt(w));
  }
  memory.fill(norms, 0, <usize>k << 3);
  for (let i: i32 = 0; i < k; i++) {
    const row = u + ((<usize>ldi(pos, i) * <usize>k) << 3);
    const di = ld(dd, i);
    const zi = ld(zhat, i);
    for (let j: i32 = 0; j < k; j++) {
      const x = zi / (di - ld(dd, ldi(org, j)) - ld(off, j));
      st(row, j, x);
      st(norms, j, ld(norms, j) + x * x);
    }
  }
  for (let j: i32 = 0; j < k; j++) st(norms, j, 1.0 / sqrt(ld(norms, j)));
  for (let r: i32 = 0; r < k; r++) {
    const row = u + ((<usize>r * <usize>k) << 3);
    let j: i32 = 0;
    for (; j + 1 < k; j += 2) {
      const p = row + (<usize>j << 3);
      v128.store(p, f64x2.mul(v128.load(p), v128.load(norms + (<usize>j << 3))));
    }
    for (; j < k; j++) st(row, j, ld(row, j) * ld(norms, j));
  }
}
