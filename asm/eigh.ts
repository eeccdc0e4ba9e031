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
