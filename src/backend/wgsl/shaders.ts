/**
 * WGSL sources of riesz's fused kernels on the WebGPU device (f32, row-major):
 * - a tiled matrix product C = op(A)·op(B) (op: identity or transpose, read through the index, never
 *   copied) with an epilogue: an optional bias per column and an activation;
 * - its symmetric rank-k variant C = AᵀA, which computes the tiles on and above the diagonal only and
 *   mirrors them (K-FAC's factor statistics aᵀa and gᵀg);
 * - the backward's elementwise step dZ = dY ⊙ f'(Y), f' written through the layer's output Y
 *   (relu: Y > 0, tanh: 1 − Y², sigmoid: Y(1 − Y)), with the curvature tap scale·dZ beside it, and
 *   the bias gradient db = Σ_rows dZ.
 *
 * The product's tile is 64×64 outputs per workgroup of 16×16 threads (4×4 outputs per thread, rows
 * and columns strided by 16 so that neighbouring threads touch neighbouring addresses), stepping
 * through K in slices of 16 held in workgroup memory. Shapes come in a uniform, so one pipeline per
 * variant serves every size; edges are guarded by bounds checks (zeros are loaded past the ends).
 */

/** An activation after a dense layer, as the kernels name it (the same names as nn/layers.ts). */
export type WgslActivation = 'identity' | 'relu' | 'tanh' | 'sigmoid';

/** Output rows and columns of one workgroup's tile. */
export const TILE = 64;
/** Threads per workgroup side (TILE / 4 outputs per thread per side). */
export const THREADS = 16;
/** Threads per workgroup of the elementwise and reduction kernels. */
export const LINEAR_WORKGROUP = 256;

/** The activation f as a WGSL function `act(v: f32) -> f32` (tanh in the overflow-free form jax-js
 * uses, sign(v)·(1 − e^{−2|v|})/(1 + e^{−2|v|}), rather than the builtin, which some drivers compute
 * as a quotient of exponentials that overflows). */
function activationFn(act: WgslActivation): string {
  switch (act) {
    case 'identity':
      return 'fn act(v: f32) -> f32 { return v; }';
    case 'relu':
      return 'fn act(v: f32) -> f32 { return max(v, 0.0); }';
    case 'tanh':
      return 'fn act(v: f32) -> f32 { let e = exp(-2.0 * abs(v)); return sign(v) * (1.0 - e) / (1.0 + e); }';
    case 'sigmoid':
      return 'fn act(v: f32) -> f32 { return 1.0 / (1.0 + exp(-v)); }';
  }
}

/** f'(s)·d written through y = f(s). */
function derivativeExpr(act: WgslActivation, y: string, d: string): string {
  switch (act) {
    case 'identity':
      return d;
    case 'relu':
      return `select(0.0, ${d}, ${y} > 0.0)`;
    case 'tanh':
      return `${d} * (1.0 - ${y} * ${y})`;
    case 'sigmoid':
      return `${d} * (${y} * (1.0 - ${y}))`;
  }
}

/** Which product a matmul pipeline computes. */
export interface MatmulVariant {
  /** A is stored K×M (the product reads Aᵀ). */
  transA: boolean;
  /** B is stored N×K (the product reads Bᵀ). */
  transB: boolean;
  /** Add bias[n] to every row before the activation. */
  bias: boolean;
  /** The epilogue's activation. */
  act: WgslActivation;
  /** C = AᵀA: B is A itself (not bound), M = N, and only tiles on and above the diagonal run. */
  symmetric: boolean;
}

/**
 * The tiled product's source. Bindings: 0 = A, then B (unless symmetric), then bias (if any), then
 * C (read_write); the uniform {M, N, K} follows as the last binding.
 */
export function matmulSource(v: MatmulVariant): string {
  const T = TILE;
  const S = THREADS;
  const KS = 16; // K slice
  // Each thread loads 4 entries of each tile per slice ((T·KS)/(S·S)) and owns 4×4 outputs, unrolled
  // into scalars (arrays indexed in loops may live in memory on some compilers).
  const R4 = [0, 1, 2, 3];
  const LOADS = Array.from({ length: (T * KS) / (S * S) }, (_, i) => i);
  let binding = 0;
  const decl: string[] = [];
  decl.push(`@group(0) @binding(${binding++}) var<storage, read> A: array<f32>;`);
  const bName = v.symmetric ? 'A' : 'B';
  if (!v.symmetric) decl.push(`@group(0) @binding(${binding++}) var<storage, read> B: array<f32>;`);
  if (v.bias) decl.push(`@group(0) @binding(${binding++}) var<storage, read> bias: array<f32>;`);
  decl.push(`@group(0) @binding(${binding++}) var<storage, read_write> C: array<f32>;`);
  decl.push(`@group(0) @binding(${binding++}) var<uniform> dims: Dims;`);
  // Symmetric: logical A is aᵀ (M×K, stored K×M) and logical B is a (K×N, stored K×N).
  const transA = v.symmetric ? true : v.transA;
  const transB = v.symmetric ? false : v.transB;
  // A's tile: 64 rows m × 16 k; read along the stored rows (k contiguous unless transposed).
  const aIndex = transA ? `let k = e / ${T}u; let m = e % ${T}u;` : `let m = e / ${KS}u; let k = e % ${KS}u;`;
  const aAddr = transA ? 'gk * dims.M + gm' : 'gm * dims.K + gk';
  const bIndex = transB ? `let n = e / ${KS}u; let k = e % ${KS}u;` : `let k = e / ${T}u; let n = e % ${T}u;`;
  const bAddr = transB ? 'gn * dims.K + gk' : 'gk * dims.N + gn';
  const store = v.symmetric
    ? `C[m * dims.N + n] = val;
        if (wg.x != wg.y) { C[n * dims.N + m] = val; }`
    : 'C[m * dims.N + n] = val;';
  return `
struct Dims { M: u32, N: u32, K: u32, pad: u32 }
${decl.join('\n')}
var<workgroup> As: array<f32, ${T * KS}>;
var<workgroup> Bs: array<f32, ${T * KS}>;
${activationFn(v.act)}

@compute @workgroup_size(${S}, ${S})
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  ${v.symmetric ? 'if (wg.x < wg.y) { return; }' : ''}
  let tid = lid.y * ${S}u + lid.x;
  let row0 = wg.y * ${T}u;
  let col0 = wg.x * ${T}u;
  ${R4.flatMap((r) => R4.map((c) => `var acc${r}${c} = 0.0;`)).join(' ')}
  for (var k0 = 0u; k0 < dims.K; k0 = k0 + ${KS}u) {
    ${LOADS.map(
      (i) => `{
      let e = tid + ${i * S * S}u;
      ${aIndex}
      let gm = row0 + m;
      let gk = k0 + k;
      var va = 0.0;
      if (gm < dims.M && gk < dims.K) { va = A[${aAddr}]; }
      As[k * ${T}u + m] = va;
    }`,
    ).join('\n    ')}
    ${LOADS.map(
      (i) => `{
      let e = tid + ${i * S * S}u;
      ${bIndex}
      let gn = col0 + n;
      let gk = k0 + k;
      var vb = 0.0;
      if (gn < dims.N && gk < dims.K) { vb = ${bName}[${bAddr}]; }
      Bs[k * ${T}u + n] = vb;
    }`,
    ).join('\n    ')}
    workgroupBarrier();
    for (var k = 0u; k < ${KS}u; k = k + 1u) {
      ${R4.map((r) => `let a${r} = As[k * ${T}u + lid.y + ${r * S}u];`).join(' ')}
      ${R4.map((c) => `let b${c} = Bs[k * ${T}u + lid.x + ${c * S}u];`).join(' ')}
      ${R4.flatMap((r) => R4.map((c) => `acc${r}${c} = fma(a${r}, b${c}, acc${r}${c});`)).join('\n      ')}
    }
    workgroupBarrier();
  }
  ${R4.flatMap((r) =>
    R4.map(
      (c) => `{
    let m = row0 + lid.y + ${r * S}u;
    let n = col0 + lid.x + ${c * S}u;
    if (m < dims.M && n < dims.N) {
      let val = act(acc${r}${c}${v.bias ? ' + bias[n]' : ''});
      ${store}
    }
  }`,
    ),
  ).join('\n  ')}
}
`;
}

/**
 * dZ = dY ⊙ f'(Y) and G = scale·dZ (the curvature tap), elementwise over `count` entries. Bindings:
 * 0 = Y, 1 = dY, 2 = dZ (read_write), 3 = G (read_write), 4 = uniform {count, row stride of the 2-D
 * grid, scale}.
 */
export function activationBackwardSource(act: WgslActivation): string {
  return `
struct Len { count: u32, stride: u32, scale: f32, pad: u32 }
@group(0) @binding(0) var<storage, read> Y: array<f32>;
@group(0) @binding(1) var<storage, read> dY: array<f32>;
@group(0) @binding(2) var<storage, read_write> dZ: array<f32>;
@group(0) @binding(3) var<storage, read_write> G: array<f32>;
@group(0) @binding(4) var<uniform> len: Len;

@compute @workgroup_size(${LINEAR_WORKGROUP})
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.y * len.stride + gid.x;
  if (i >= len.count) { return; }
  let y = Y[i];
  let d = dY[i];
  let dz = ${derivativeExpr(act, 'y', 'd')};
  dZ[i] = dz;
  G[i] = len.scale * dz;
}
`;
}

/**
 * db[n] = Σ_m dZ[m, n] for dZ rows×cols: one thread per column, walking the rows (neighbouring
 * threads read neighbouring columns). Bindings: 0 = dZ, 1 = db (read_write), 2 = uniform {rows, cols}.
 */
export function columnSumSource(): string {
  return `
struct Shape { rows: u32, cols: u32, pad0: u32, pad1: u32 }
@group(0) @binding(0) var<storage, read> dZ: array<f32>;
@group(0) @binding(1) var<storage, read_write> db: array<f32>;
@group(0) @binding(2) var<uniform> shape: Shape;

@compute @workgroup_size(${LINEAR_WORKGROUP})
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let n = gid.x;
  if (n >= shape.cols) { return; }
  var s = 0.0;
  for (var m = 0u; m < shape.rows; m = m + 1u) { s = s + dZ[m * shape.cols + n]; }
  db[n] = s;
}
`;
}
