/**
 * fast-check arbitraries for fuzzing file readers: random bytes, and valid seed files damaged by a
 * few byte flips, overwrites, truncations, insertions and deletions. Insertions favour tokens that
 * parsers mishandle (huge or negative numbers, brackets, control bytes), so mutations reach the
 * size and nesting checks rather than only the magic-number check.
 */
import fc from 'fast-check';
import { RieszError } from '../../src/errors.js';

/**
 * Number of cases for a property: the given default, or FUZZ_RUNS × `share` when FUZZ_RUNS is set
 * (`npm run fuzz`); a share below 1 keeps slow properties (ones that write files) in proportion.
 */
export function runs(defaultRuns: number, share = 1): number {
  const env = Number(process.env.FUZZ_RUNS);
  return Number.isFinite(env) && env > 0 ? Math.max(1, Math.floor(env * share)) : defaultRuns;
}

/** A test timeout that catches a hang: one minute in CI, half an hour for `npm run fuzz`. */
export const TIMEOUT = process.env.FUZZ_RUNS ? 30 * 60_000 : 60_000;

/** Cases per fast-check call; between calls the test yields, keeping the vitest worker responsive. */
const CHUNK = 5000;

/**
 * Asserts `prop` on `runs(defaultRuns, share)` cases of `arb`, in chunks of 5000. A failure reports its
 * seed; replay it with FUZZ_SEED=<seed> and FUZZ_RUNS of at most 5000.
 */
export async function check<T>(
  arb: fc.Arbitrary<T>,
  prop: (t: T) => void,
  defaultRuns: number,
  share = 1,
): Promise<void> {
  const total = runs(defaultRuns, share);
  const seed = Number(process.env.FUZZ_SEED);
  for (let done = 0, k = 0; done < total; k++) {
    const numRuns = Math.min(CHUNK, total - done);
    fc.assert(fc.property(arb, prop), { numRuns, ...(Number.isInteger(seed) ? { seed: seed + k } : {}) });
    done += numRuns;
    await new Promise((resolve) => setImmediate(resolve));
  }
}

const enc = new TextEncoder();

/** Tokens worth inserting: they hit overflow, sign, nesting and dtype checks. */
const TOKENS = [
  '9999999999',
  '3000000000 3000000000 1',
  '200000 200000',
  '18446744073709551615',
  '-1',
  '1e400',
  'nan',
  '0x10',
  ',',
  ';',
  ' ',
  '\n',
  '\r\n',
  '%',
  '#',
  '(',
  ')',
  '((((((((',
  '[[[[[[[[[[[[[[[[',
  '{{{{{{{{{{',
  '"',
  "'",
  ':',
  '\\',
  '\0',
  'True',
  "'|O'",
  "'<i8'",
  "'shape': (1, 2, 3)",
  '__proto__',
  '"__proto__"',
  '{"dtype":"F64","shape":[4294967296,4294967296],"data_offsets":[0,8]}',
  '1+2j',
  'abc',
].map((s) => enc.encode(s));

type Mutation =
  | { kind: 'flip'; at: number; mask: number }
  | { kind: 'set'; at: number; value: number }
  | { kind: 'truncate'; at: number }
  | { kind: 'insert'; at: number; bytes: Uint8Array }
  | { kind: 'delete'; at: number; len: number };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), mask: fc.integer({ min: 1, max: 255 }) }),
  fc.record({
    kind: fc.constant('set' as const),
    at: fc.nat(),
    value: fc.oneof(
      fc.constantFrom(0, 0xff, 0x7f, 0x80, 0x30, 0x39, 0x2c, 0x0a),
      fc.integer({ min: 0, max: 255 }),
    ),
  }),
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({
    kind: fc.constant('insert' as const),
    at: fc.nat(),
    bytes: fc.oneof(fc.constantFrom(...TOKENS), fc.uint8Array({ minLength: 1, maxLength: 16 })),
  }),
  fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), len: fc.integer({ min: 1, max: 32 }) }),
);

function apply(bytes: Uint8Array, m: Mutation): Uint8Array {
  const n = bytes.length;
  const at = n === 0 ? 0 : m.at % (n + 1);
  switch (m.kind) {
    case 'flip':
    case 'set': {
      if (n === 0) return bytes;
      const out = bytes.slice();
      const k = m.at % n;
      out[k] = m.kind === 'flip' ? out[k] ^ m.mask : m.value;
      return out;
    }
    case 'truncate':
      return bytes.slice(0, at);
    case 'insert': {
      const out = new Uint8Array(n + m.bytes.length);
      out.set(bytes.subarray(0, at), 0);
      out.set(m.bytes, at);
      out.set(bytes.subarray(at), at + m.bytes.length);
      return out;
    }
    case 'delete': {
      const out = new Uint8Array(n - Math.min(m.len, n - at));
      out.set(bytes.subarray(0, at), 0);
      out.set(bytes.subarray(Math.min(n, at + m.len)), at);
      return out;
    }
  }
}

/** One of the seeds, damaged by 1 to 6 mutations. */
export function mutated(seeds: Uint8Array[]): fc.Arbitrary<Uint8Array> {
  return fc
    .tuple(fc.integer({ min: 0, max: seeds.length - 1 }), fc.array(mutation, { minLength: 1, maxLength: 6 }))
    .map(([i, ms]) => ms.reduce(apply, seeds[i]));
}

/** Random bytes, half of the time behind a valid prefix (a magic number or a banner line). */
export function randomBytes(prefixes: Uint8Array[]): fc.Arbitrary<Uint8Array> {
  return fc
    .tuple(fc.option(fc.constantFrom(...prefixes)), fc.uint8Array({ maxLength: 512 }))
    .map(([p, rest]) => {
      if (!p) return rest;
      const out = new Uint8Array(p.length + rest.length);
      out.set(p, 0);
      out.set(rest, p.length);
      return out;
    });
}

/**
 * The fuzz property: `read` returns, or throws a RieszError. Any other exception (TypeError,
 * RangeError from an allocation, a stack overflow) fails the property with the input attached.
 */
export function returnsOrThrowsTyped(read: (bytes: Uint8Array) => unknown): (bytes: Uint8Array) => void {
  return (bytes) => {
    try {
      read(bytes);
    } catch (e) {
      if (e instanceof RieszError) return;
      throw e;
    }
  };
}
