// WebAssembly SIMD kernels of riesz (AssemblyScript). Row-major f64; every pointer is a byte address in
// the shared linear memory, every leading dimension counts elements. Compiled by `npm run build:wasm`.
//
// GEMM follows the GotoBLAS layering: a KC×NC panel of B and an MC×KC block of A are packed into
// contiguous micro-panels, and a 4×4 micro-kernel keeps C's 4×4 tile in eight f64x2 registers while it
// streams the packed panels.

const MR: i32 = 4;
const NR: i32 = 4;
const MC: i32 = 64;
const KC: i32 = 256;
const NC: i32 = 512;

// a·b + c in f32. The module is built twice (scripts/build-wasm.mjs): with relaxed SIMD this is one
// fused multiply-add (relaxed_madd: fused or not, at the engine's choice — either rounds within f32
// tolerance), without it a multiply and an add. The f64 kernel stays unfused in both builds, so the
// geometry core's f64 results do not depend on the host's instruction set.
@inline function madd32(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.relaxed_madd(a, b, c);
  return f32x4.add(c, f32x4.mul(a, b));
}

/** 1 when this build multiplies with relaxed-SIMD fused multiply-adds, 0 for the plain SIMD build. */
export function fusedMultiplyAdd(): i32 {
  return ASC_FEATURE_RELAXED_SIMD ? 1 : 0;
}

/** Bytes of scratch one call of `gemm` needs at `work`. */
export function gemmWorkBytes(): i32 {
  return (MC * KC + KC * NC) * 8 + 128;
}

/** First free byte after the module's static data. */
export function heapBase(): usize {
  return __heap_base;
}

@inline function at(base: usize, row: i32, ld: i32, col: i32): usize {
  return base + ((<usize>row * <usize>ld + <usize>col) << 3);
}

// α·A[i0:i0+mc, p0:p0+kc] → panels of MR rows: for each p, MR consecutive values (zero-padded
// rows). With transA the logical A is the transpose of the stored one: A[i, p] = stored[p, i].
function packA(a: usize, lda: i32, i0: i32, mc: i32, p0: i32, kc: i32, dst: usize, alpha: f64, transA: bool): void {
  const step: usize = transA ? <usize>lda << 3 : 8;
  for (let ir: i32 = 0; ir < mc; ir += MR) {
    const rows = min(MR, mc - ir);
    for (let r: i32 = 0; r < MR; r++) {
      let d = dst + (<usize>r << 3);
      if (r < rows) {
        let s = transA ? at(a, p0, lda, i0 + ir + r) : at(a, i0 + ir + r, lda, p0);
        for (let p: i32 = 0; p < kc; p++) {
          store<f64>(d, alpha * load<f64>(s));
          s += step;
          d += <usize>(MR << 3);
        }
      } else {
        for (let p: i32 = 0; p < kc; p++) {
          store<f64>(d, 0.0);
          d += <usize>(MR << 3);
        }
      }
    }
    dst += <usize>(kc * MR) << 3;
  }
}

// B[p0:p0+kc, j0:j0+nc] → panels of NR columns: for each p, NR consecutive values (zero-padded).
function packB(b: usize, ldb: i32, p0: i32, kc: i32, j0: i32, nc: i32, dst: usize): void {
  for (let jr: i32 = 0; jr < nc; jr += NR) {
    const cols = min(NR, nc - jr);
    if (cols == NR) {
      for (let p: i32 = 0; p < kc; p++) {
        const s = at(b, p0 + p, ldb, j0 + jr);
        v128.store(dst, v128.load(s));
        v128.store(dst, v128.load(s, 16), 16);
        dst += 32;
      }
    } else {
      for (let p: i32 = 0; p < kc; p++) {
        const s = at(b, p0 + p, ldb, j0 + jr);
        for (let c: i32 = 0; c < NR; c++) store<f64>(dst + (<usize>c << 3), c < cols ? load<f64>(s + (<usize>c << 3)) : 0.0);
        dst += 32;
      }
    }
  }
}

// C[0:rows, 0:cols] += (packed A micro-panel) · (packed B micro-panel), rows, cols ≤ 4.
function micro(kc: i32, pa: usize, pb: usize, c: usize, ldc: i32, rows: i32, cols: i32): void {
  let c00 = f64x2.splat(0.0);
  let c01 = f64x2.splat(0.0);
  let c10 = f64x2.splat(0.0);
  let c11 = f64x2.splat(0.0);
  let c20 = f64x2.splat(0.0);
  let c21 = f64x2.splat(0.0);
  let c30 = f64x2.splat(0.0);
  let c31 = f64x2.splat(0.0);
  for (let p: i32 = 0; p < kc; p++) {
    const b0 = v128.load(pb);
    const b1 = v128.load(pb, 16);
    const a0 = v128.load64_splat(pa);
    const a1 = v128.load64_splat(pa, 8);
    const a2 = v128.load64_splat(pa, 16);
    const a3 = v128.load64_splat(pa, 24);
    c00 = f64x2.add(c00, f64x2.mul(a0, b0));
    c01 = f64x2.add(c01, f64x2.mul(a0, b1));
    c10 = f64x2.add(c10, f64x2.mul(a1, b0));
    c11 = f64x2.add(c11, f64x2.mul(a1, b1));
    c20 = f64x2.add(c20, f64x2.mul(a2, b0));
    c21 = f64x2.add(c21, f64x2.mul(a2, b1));
    c30 = f64x2.add(c30, f64x2.mul(a3, b0));
    c31 = f64x2.add(c31, f64x2.mul(a3, b1));
    pa += 32;
    pb += 32;
  }
  const ld = <usize>ldc << 3;
  if (rows == MR && cols == NR) {
    let r = c;
    v128.store(r, f64x2.add(v128.load(r), c00));
    v128.store(r, f64x2.add(v128.load(r, 16), c01), 16);
    r += ld;
    v128.store(r, f64x2.add(v128.load(r), c10));
    v128.store(r, f64x2.add(v128.load(r, 16), c11), 16);
    r += ld;
    v128.store(r, f64x2.add(v128.load(r), c20));
    v128.store(r, f64x2.add(v128.load(r, 16), c21), 16);
    r += ld;
    v128.store(r, f64x2.add(v128.load(r), c30));
    v128.store(r, f64x2.add(v128.load(r, 16), c31), 16);
    return;
  }
  // Edge tile: add only the valid part.
  for (let i: i32 = 0; i < rows; i++) {
    const lo = i == 0 ? c00 : i == 1 ? c10 : i == 2 ? c20 : c30;
    const hi = i == 0 ? c01 : i == 1 ? c11 : i == 2 ? c21 : c31;
    const r = c + <usize>i * ld;
    if (cols > 0) store<f64>(r, load<f64>(r) + f64x2.extract_lane(lo, 0));
    if (cols > 1) store<f64>(r + 8, load<f64>(r + 8) + f64x2.extract_lane(lo, 1));
    if (cols > 2) store<f64>(r + 16, load<f64>(r + 16) + f64x2.extract_lane(hi, 0));
    if (cols > 3) store<f64>(r + 24, load<f64>(r + 24) + f64x2.extract_lane(hi, 1));
  }
}

/**
 * C ← C + α·op(A)·B with op(A) m×k (op(A) = A, or Aᵀ when transA ≠ 0; lda is the stored leading
 * dimension), B k×n (ldb), C m×n (ldc). `work` points at gemmWorkBytes() bytes of scratch owned by
 * the calling thread.
 */
export function gemm(
  m: i32, n: i32, k: i32, a: usize, lda: i32, b: usize, ldb: i32, c: usize, ldc: i32, work: usize, alpha: f64, transA: i32,
): void {
  const packedA = (work + 63) & ~(<usize>63);
  const packedB = packedA + (<usize>(MC * KC) << 3);
  for (let j0: i32 = 0; j0 < n; j0 += NC) {
    const nc = min(NC, n - j0);
    for (let p0: i32 = 0; p0 < k; p0 += KC) {
      const kc = min(KC, k - p0);
      packB(b, ldb, p0, kc, j0, nc, packedB);
      for (let i0: i32 = 0; i0 < m; i0 += MC) {
        const mc = min(MC, m - i0);
        packA(a, lda, i0, mc, p0, kc, packedA, alpha, transA != 0);
        for (let jr: i32 = 0; jr < nc; jr += NR) {
          const pb = packedB + (<usize>(jr * kc) << 3);
          for (let ir: i32 = 0; ir < mc; ir += MR) {
            micro(kc, packedA + (<usize>(ir * kc) << 3), pb, at(c, i0 + ir, ldc, j0 + jr), ldc, min(MR, mc - ir), min(NR, nc - jr));
          }
        }
      }
    }
  }
}

// ---- float32 ----------------------------------------------------------------------------------
// The same layering for f32 (training's products): a 4×8 micro-kernel keeps C's tile in eight f32x4
// registers — twice the multiply-adds per instruction of the f64 kernel.

const NR32: i32 = 8;

@inline function at32(base: usize, row: i32, ld: i32, col: i32): usize {
  return base + ((<usize>row * <usize>ld + <usize>col) << 2);
}

function packA32(a: usize, lda: i32, i0: i32, mc: i32, p0: i32, kc: i32, dst: usize, alpha: f32, transA: bool): void {
  const step: usize = transA ? <usize>lda << 2 : 4;
  for (let ir: i32 = 0; ir < mc; ir += MR) {
    const rows = min(MR, mc - ir);
    for (let r: i32 = 0; r < MR; r++) {
      let d = dst + (<usize>r << 2);
      if (r < rows) {
        let s = transA ? at32(a, p0, lda, i0 + ir + r) : at32(a, i0 + ir + r, lda, p0);
        for (let p: i32 = 0; p < kc; p++) {
          store<f32>(d, alpha * load<f32>(s));
          s += step;
          d += <usize>(MR << 2);
        }
      } else {
        for (let p: i32 = 0; p < kc; p++) {
          store<f32>(d, 0.0);
          d += <usize>(MR << 2);
        }
      }
    }
    dst += <usize>(kc * MR) << 2;
  }
}

function packB32(b: usize, ldb: i32, p0: i32, kc: i32, j0: i32, nc: i32, dst: usize, transB: bool): void {
  for (let jr: i32 = 0; jr < nc; jr += NR32) {
    const cols = min(NR32, nc - jr);
    if (transB) {
      // B is stored n×k: column c of the panel is stored row j0 + jr + c, read contiguously.
      for (let c: i32 = 0; c < NR32; c++) {
        let d = dst + (<usize>c << 2);
        if (c < cols) {
          let s = at32(b, j0 + jr + c, ldb, p0);
          for (let p: i32 = 0; p < kc; p++) {
            store<f32>(d, load<f32>(s));
            s += 4;
            d += 32;
          }
        } else {
          for (let p: i32 = 0; p < kc; p++) {
            store<f32>(d, 0.0);
            d += 32;
          }
        }
      }
      dst += <usize>(kc * NR32) << 2;
    } else if (cols == NR32) {
      for (let p: i32 = 0; p < kc; p++) {
        const s = at32(b, p0 + p, ldb, j0 + jr);
        v128.store(dst, v128.load(s));
        v128.store(dst, v128.load(s, 16), 16);
        dst += 32;
      }
    } else {
      for (let p: i32 = 0; p < kc; p++) {
        const s = at32(b, p0 + p, ldb, j0 + jr);
        for (let c: i32 = 0; c < NR32; c++) store<f32>(dst + (<usize>c << 2), c < cols ? load<f32>(s + (<usize>c << 2)) : 0.0);
        dst += 32;
      }
    }
  }
}

function micro32(kc: i32, pa: usize, pb: usize, c: usize, ldc: i32, rows: i32, cols: i32): void {
  let c00 = f32x4.splat(0.0);
  let c01 = f32x4.splat(0.0);
  let c10 = f32x4.splat(0.0);
  let c11 = f32x4.splat(0.0);
  let c20 = f32x4.splat(0.0);
  let c21 = f32x4.splat(0.0);
  let c30 = f32x4.splat(0.0);
  let c31 = f32x4.splat(0.0);
  for (let p: i32 = 0; p < kc; p++) {
    const b0 = v128.load(pb);
    const b1 = v128.load(pb, 16);
    const a0 = v128.load32_splat(pa);
    const a1 = v128.load32_splat(pa, 4);
    const a2 = v128.load32_splat(pa, 8);
    const a3 = v128.load32_splat(pa, 12);
    c00 = madd32(a0, b0, c00);
    c01 = madd32(a0, b1, c01);
    c10 = madd32(a1, b0, c10);
    c11 = madd32(a1, b1, c11);
    c20 = madd32(a2, b0, c20);
    c21 = madd32(a2, b1, c21);
    c30 = madd32(a3, b0, c30);
    c31 = madd32(a3, b1, c31);
    pa += 16;
    pb += 32;
  }
  const ld = <usize>ldc << 2;
  if (rows == MR && cols == NR32) {
    let r = c;
    v128.store(r, f32x4.add(v128.load(r), c00));
    v128.store(r, f32x4.add(v128.load(r, 16), c01), 16);
    r += ld;
    v128.store(r, f32x4.add(v128.load(r), c10));
    v128.store(r, f32x4.add(v128.load(r, 16), c11), 16);
    r += ld;
    v128.store(r, f32x4.add(v128.load(r), c20));
    v128.store(r, f32x4.add(v128.load(r, 16), c21), 16);
    r += ld;
    v128.store(r, f32x4.add(v128.load(r), c30));
    v128.store(r, f32x4.add(v128.load(r, 16), c31), 16);
    return;
  }
  // Edge tile: add only the valid part (lane by lane: no scratch memory, which threads would share).
  for (let i: i32 = 0; i < rows; i++) {
    const lo = i == 0 ? c00 : i == 1 ? c10 : i == 2 ? c20 : c30;
    const hi = i == 0 ? c01 : i == 1 ? c11 : i == 2 ? c21 : c31;
    const r = c + <usize>i * ld;
    if (cols > 0) store<f32>(r, load<f32>(r) + f32x4.extract_lane(lo, 0));
    if (cols > 1) store<f32>(r + 4, load<f32>(r + 4) + f32x4.extract_lane(lo, 1));
    if (cols > 2) store<f32>(r + 8, load<f32>(r + 8) + f32x4.extract_lane(lo, 2));
    if (cols > 3) store<f32>(r + 12, load<f32>(r + 12) + f32x4.extract_lane(lo, 3));
    if (cols > 4) store<f32>(r + 16, load<f32>(r + 16) + f32x4.extract_lane(hi, 0));
    if (cols > 5) store<f32>(r + 20, load<f32>(r + 20) + f32x4.extract_lane(hi, 1));
    if (cols > 6) store<f32>(r + 24, load<f32>(r + 24) + f32x4.extract_lane(hi, 2));
    if (cols > 7) store<f32>(r + 28, load<f32>(r + 28) + f32x4.extract_lane(hi, 3));
  }
}

/**
 * `gemm` for float32 arrays (the same arguments; pointers to f32, α applied in f32). `flags` packs
 * bit 0 transA, bit 1 transB (B stored n×k), bit 2 "lower": C is symmetric (AᵀA-like) and only tiles
 * touching its lower triangle are computed (a symmetric rank-k update at half the work; the caller
 * mirrors), and flags >> 3 is the row of C's first row in the whole product (threads split rows).
 */
export function sgemm(
  m: i32, n: i32, k: i32, a: usize, lda: i32, b: usize, ldb: i32, c: usize, ldc: i32, work: usize, alpha: f64, flags: i32,
): void {
  const packedA = (work + 63) & ~(<usize>63);
  const packedB = packedA + (<usize>(MC * KC) << 2);
  const transA = (flags & 1) != 0;
  const transB = (flags & 2) != 0;
  const lower = (flags & 4) != 0;
  const row0 = flags >> 3;
  for (let j0: i32 = 0; j0 < n; j0 += NC) {
    const nc = min(NC, n - j0);
    // Lower triangle only: a panel entirely right of the last row's diagonal has nothing to do.
    if (lower && j0 > row0 + m - 1) break;
    for (let p0: i32 = 0; p0 < k; p0 += KC) {
      const kc = min(KC, k - p0);
      packB32(b, ldb, p0, kc, j0, nc, packedB, transB);
      for (let i0: i32 = 0; i0 < m; i0 += MC) {
        const mc = min(MC, m - i0);
        if (lower && j0 > row0 + i0 + mc - 1) continue;
        packA32(a, lda, i0, mc, p0, kc, packedA, <f32>alpha, transA);
        for (let jr: i32 = 0; jr < nc; jr += NR32) {
          const pb = packedB + (<usize>(jr * kc) << 2);
          for (let ir: i32 = 0; ir < mc; ir += MR) {
            if (lower && j0 + jr > row0 + i0 + ir + MR - 1) continue;
            micro32(kc, packedA + (<usize>(ir * kc) << 2), pb, at32(c, i0 + ir, ldc, j0 + jr), ldc, min(MR, mc - ir), min(NR32, nc - jr));
          }
        }
      }
    }
  }
}
