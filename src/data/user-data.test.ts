import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { NonFiniteError, ParseError, ShapeError, UsageError } from '../errors.js';
import { serializeNpy } from '../io/npy.js';
import { zeros } from '../linalg/matrix.js';
import {
  datasetFromArrays,
  datasetFromCsvText,
  datasetFromFile,
  lossInOriginalUnits,
  type UserDataset,
} from './user-data.js';

const dir = mkdtempSync(join(tmpdir(), 'riesz-user-data-'));
const file = (name: string, content: string | Uint8Array) => {
  const p = join(dir, name);
  writeFileSync(p, content);
  return p;
};

/** A .npy file of raw element bytes (little-endian) with the given dtype and shape. */
function npy(descr: string, shape: number[], body: Uint8Array, fortran = false): Uint8Array {
  const dims = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  let header = `{'descr': '${descr}', 'fortran_order': ${fortran ? 'True' : 'False'}, 'shape': ${dims}, }`;
  header += `${' '.repeat((64 - ((11 + header.length) % 64)) % 64)}\n`;
  const out = new Uint8Array(10 + header.length + body.length);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0], 0);
  new DataView(out.buffer).setUint16(8, header.length, true);
  out.set(new TextEncoder().encode(header), 10);
  out.set(body, 10 + header.length);
  return out;
}
const i8 = (v: number[]) => new Uint8Array(BigInt64Array.from(v, BigInt).buffer);
const f8Npy = (rows: number[][]) => {
  const A = zeros(rows.length, rows[0].length);
  rows.flat().forEach((v, k) => {
    A.re[k] = v;
  });
  return serializeNpy(A);
};
/** NumPy's '<U{width}': UTF-32 code points, zero-padded. */
const unicode = (v: string[], width: number) => {
  const u = new Uint32Array(v.length * width);
  v.forEach((s, i) => {
    [...s].forEach((ch, c) => {
      u[i * width + c] = ch.codePointAt(0)!;
    });
  });
  return new Uint8Array(u.buffer);
};

/** Row ids carried in column 0 of unstandardised inputs. */
const ids = (s: UserDataset['train']) => Array.from({ length: s.n }, (_, r) => s.x[r * s.xDim]);

describe('the seeded train/test split', () => {
  it('is disjoint, covers every row once, keeps rows with their labels, and is deterministic', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 2, max: 300 }),
        fc.double({ min: 0.01, max: 0.9, noNaN: true }),
        fc.integer({ min: 0, max: 2 ** 31 - 1 }),
        (n, f, seed) => {
          const nTest = Math.max(1, Math.round(f * n));
          fc.pre(n - nTest >= 1);
          const X = Array.from({ length: n }, (_, i) => [i, -i]);
          const y = Array.from({ length: n }, (_, i) => i + 0.5); // fractions: regression
          const opts = { testFraction: f, seed, standardise: false };
          const d = datasetFromArrays(X, y, opts);
          expect([d.train.n, d.test.n]).toEqual([n - nTest, nTest]);
          const all = [...ids(d.train), ...ids(d.test)].sort((a, b) => a - b);
          expect(all).toEqual(X.map((r) => r[0]));
          for (const s of [d.train, d.test])
            for (let r = 0; r < s.n; r++) {
              expect(s.y[r]).toBe(s.x[r * 2] + 0.5);
              expect(s.x[r * 2 + 1]).toBe(-s.x[r * 2]);
            }
          const again = datasetFromArrays(X, y, opts);
          expect(ids(again.test)).toEqual(ids(d.test));
          expect(Array.from(again.train.y)).toEqual(Array.from(d.train.y));
        },
      ),
      { numRuns: 80 },
    );
  });

  it('depends on the seed', () => {
    const X = Array.from({ length: 100 }, (_, i) => [i]);
    const y = X.map((_, i) => i % 3);
    const a = datasetFromArrays(X, y, { seed: 1, standardise: false });
    const b = datasetFromArrays(X, y, { seed: 2, standardise: false });
    expect(ids(a.test)).not.toEqual(ids(b.test));
    expect(a.test.n).toBe(10); // the default testFraction 0.1
  });
});

describe('standardisation from the training split', () => {
  const column = (s: UserDataset['train'], j: number) =>
    Array.from({ length: s.n }, (_, r) => s.x[r * s.xDim + j]);
  const meanStd = (v: ArrayLike<number>) => {
    const a = Array.from(v);
    const m = a.reduce((s, x) => s + x, 0) / a.length;
    return [m, Math.sqrt(a.reduce((s, x) => s + (x - m) ** 2, 0) / a.length)];
  };

  it('gives every training column mean 0 and deviation 1, applies the same map to the test split', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 4, max: 60 }),
        fc.integer({ min: 1, max: 5 }),
        fc.integer({ min: 0, max: 1000 }),
        fc.double({ min: -1e4, max: 1e4, noNaN: true }),
        fc.double({ min: 1e-3, max: 1e3, noNaN: true }),
        (n, d, seed, offset, scale) => {
          // Small integers, shifted and scaled: columns of any location and spread, some constant.
          let s = seed;
          const next = () => {
            s = (s * 1103515245 + 12345) % 2147483648;
            return (s >> 16) % 7;
          };
          const X = Array.from({ length: n }, () =>
            Array.from({ length: d }, (_, j) => offset + scale * (j === 0 ? 1 : next())),
          );
          const y = X.map((r) => 2 * r[0] + 0.25 * (next() - 3) + 1e-3);
          const data = datasetFromArrays(X, y, { seed, testFraction: 0.25 });
          const st = data.standardisation!;
          for (let j = 0; j < d; j++) {
            const [m, sd] = meanStd(column(data.train, j));
            expect(Math.abs(m)).toBeLessThan(1e-5);
            // Constant in the training split (column 0 always): all zeros, deviation 1 stored.
            if (st.inputStd[j] === 1 && sd < 1e-6) expect(sd).toBe(0);
            else expect(sd).toBeCloseTo(1, 4);
          }
          const [ym, ysd] = meanStd(data.train.y);
          expect(Math.abs(ym)).toBeLessThan(1e-5);
          if (ysd > 1e-6) expect(ysd).toBeCloseTo(1, 4);
          // The test split: the training split's statistics, not its own (rows found by their ids).
          const order = datasetFromArrays(
            X.map((_, i) => [i]),
            y,
            { seed, testFraction: 0.25, standardise: false },
          );
          ids(order.test).forEach((i, r) => {
            for (let j = 0; j < d; j++) {
              const want = (X[i][j] - st.inputMean[j]) / st.inputStd[j];
              expect(data.test.x[r * d + j]).toBeCloseTo(want, 4);
            }
            expect(data.test.y[r]).toBeCloseTo((y[i] - st.targetMean!) / st.targetStd!, 4);
          });
        },
      ),
      { numRuns: 60 },
    );
  });

  it('scales regression losses back to the original units; classification targets stay labels', () => {
    const X = Array.from({ length: 50 }, (_, i) => [i]);
    const reg = datasetFromArrays(
      X,
      X.map(([v]) => 10 * v + 0.5),
      { seed: 4 },
    );
    const s = reg.standardisation!.targetStd!;
    expect(s).toBeGreaterThan(100);
    expect(lossInOriginalUnits(reg, 0.5)).toBeCloseTo(0.5 * s * s, 6);
    const cls = datasetFromArrays(
      X,
      X.map(([v]) => v % 2),
      { seed: 4 },
    );
    expect(cls.standardisation!.targetStd).toBeUndefined();
    expect(lossInOriginalUnits(cls, 0.5)).toBe(0.5);
    expect(cls.train.y).toBeInstanceOf(Int32Array);
    expect(reg.train.y).toBeInstanceOf(Float32Array);
  });
});

describe('label kinds', () => {
  const X = (n: number) => Array.from({ length: n }, (_, i) => [i]);

  it('maps class names and integers to 0..K−1 in sorted order, keeping each row its class', () => {
    fc.assert(
      fc.property(
        fc.array(fc.constantFrom('cat', 'dog', 'emu', 'Ant', 'zebra finch'), { minLength: 4, maxLength: 80 }),
        fc.integer({ min: 0, max: 99 }),
        (names, seed) => {
          fc.pre(new Set(names).size >= 2);
          const d = datasetFromArrays(X(names.length), names, {
            seed,
            testFraction: 0.3,
            standardise: false,
          });
          expect(d.kind).toBe('classification');
          expect(d.classes).toEqual([...new Set(names)].sort());
          expect(d.outputDim).toBe(d.classes!.length);
          for (const s of [d.train, d.test])
            for (let r = 0; r < s.n; r++) expect(d.classes![s.y[r]]).toBe(names[s.x[r]]);
        },
      ),
      { numRuns: 40 },
    );
    const ints = datasetFromArrays(X(6), [1, -1, 1, 1, -1, 1], { standardise: false });
    expect([ints.kind, ints.classes]).toEqual(['classification', ['-1', '1']]);
    for (let r = 0; r < ints.train.n; r++) expect(ints.train.y[r]).toBe([1, 0, 1, 1, 0, 1][ints.train.x[r]]);
    expect(datasetFromArrays(X(4), Float32Array.from([0, 2, 1, 2])).classes).toEqual(['0', '1', '2']);
  });

  it('reads fractions as regression, and `kind` overrides integers', () => {
    const f = datasetFromArrays(X(5), [0.5, 1, 2, 3, 4]);
    expect([f.kind, f.outputDim, f.classes]).toEqual(['regression', 1, undefined]);
    expect(datasetFromArrays(X(5), [1, 2, 3, 4, 5], { kind: 'regression' }).kind).toBe('regression');
  });

  it('refuses labels that do not fit the kind, naming the label', () => {
    expect(() => datasetFromArrays(X(3), [0, 1.5, 2], { kind: 'classification' })).toThrow(
      /y: y\[1\]: label 1\.5 is not an integer class label/,
    );
    expect(() => datasetFromArrays(X(3), ['a', 'b', 'a'], { kind: 'regression' })).toThrow(
      /y: y\[0\]: class name 'a' cannot be a regression target/,
    );
    expect(() => datasetFromArrays(X(3), [0, Number.NaN, 1])).toThrow(
      /y\[1\]: label NaN is not a finite number/,
    );
    expect(() => datasetFromArrays(X(3), [7, 7, 7])).toThrow(/every label is '7': classification needs two/);
  });
});

describe('errors from arrays', () => {
  it('name both shapes, the bad row, the bad entry and the bad option', () => {
    const err = (f: () => unknown) => {
      try {
        f();
      } catch (e) {
        return e as Error;
      }
      throw new Error('no error');
    };
    let e = err(() =>
      datasetFromArrays(
        [
          [1, 2],
          [3, 4],
          [5, 6],
        ],
        [0, 1, 0, 1],
      ),
    );
    expect(e).toBeInstanceOf(ShapeError);
    expect(e.message).toBe('X has shape (3, 2) but y has shape (4,)');
    e = err(() => datasetFromArrays(new Float32Array(7), [0, 1]));
    expect(e).toBeInstanceOf(ShapeError);
    expect(e.message).toMatch(
      /X has 7 values, not a whole number of rows for the 2 labels of y \(shape \(2,\)\)/,
    );
    expect(() => datasetFromArrays([[1, 2], [3]], [0, 1])).toThrow(
      /X row 1 has 1 values, row 0 has 2 \(X is 2×2\)/,
    );
    e = err(() =>
      datasetFromArrays(
        [
          [1, 2],
          [3, Number.POSITIVE_INFINITY],
          [0, 0],
        ],
        [0, 1, 1],
      ),
    );
    expect(e).toBeInstanceOf(NonFiniteError);
    expect(e.message).toMatch(/X has a non-finite entry Infinity at row 1, column 1/);
    expect(() => datasetFromArrays([], [])).toThrow(ShapeError);
    for (const f of [0, 1, -0.5, Number.NaN])
      expect(() => datasetFromArrays([[1], [2]], [0, 1], { testFraction: f })).toThrow(UsageError);
    expect(() => datasetFromArrays([[1], [2]], [0, 1], { testFraction: 0.1 })).not.toThrow();
    expect(() => datasetFromArrays([[1]], [0])).toThrow(/1 rows are too few/);
  });
});

describe('CSV files', () => {
  it('read numbers or class names from the label column, wherever it is', () => {
    const p = file(
      'flowers.csv',
      '\uFEFFsepal_length,species,"width, cm"\r\n5.1,setosa,3.5\r\n4.9,setosa,3.0\r\n\r\n6.3,virginica,"3.3"\r\n5.8,versicolor,2.7\r\n',
    );
    const d = datasetFromFile(p, { labelColumn: 'species', standardise: false, testFraction: 0.25 });
    expect([d.name, d.kind, d.inputDim, d.outputDim]).toEqual(['flowers.csv', 'classification', 2, 3]);
    expect(d.classes).toEqual(['setosa', 'versicolor', 'virginica']);
    expect(d.columns).toEqual(['sepal_length', 'width, cm']);
    expect(d.train.n + d.test.n).toBe(4);
    const kindOf = new Map([5.1, 4.9, 6.3, 5.8].map((v, i) => [Math.fround(v), d.classes![[0, 0, 2, 1][i]]]));
    for (const s of [d.train, d.test])
      for (let r = 0; r < s.n; r++) expect(d.classes![s.y[r]]).toBe(kindOf.get(s.x[2 * r]));
    // The last column by default; ';' and tabs as delimiters; numeric labels.
    const semi = datasetFromCsvText('a;b;price\n1;2;10.5\n2;3;11\n3;5;12\n', 'shop.csv');
    expect([semi.kind, semi.columns]).toEqual(['regression', ['a', 'b']]);
    const tabs = datasetFromCsvText('a\tb\tlabel\n1\t2\t0\n2\t3\t1\n3\t5\t1\n', 't.tsv');
    expect([tabs.kind, tabs.classes]).toEqual(['classification', ['0', '1']]);
    const spaces = datasetFromCsvText('a  b label\n1 2 0\n 2 3  1\n3 5 1\n', 's.txt');
    expect([spaces.columns, spaces.classes, spaces.train.n + spaces.test.n]).toEqual([
      ['a', 'b'],
      ['0', '1'],
      3,
    ]);
    const gz = file('g.csv.gz', gzipSync('x,y\n1,0\n2,1\n3,0\n'));
    expect(datasetFromFile(gz).name).toBe('g.csv.gz');
  });

  it('name the file, the row, the column and the bad cell', () => {
    const text = 'a,b,label\n1,2,x\n3,oops,y\n';
    expect(() => datasetFromCsvText(text, 'd.csv')).toThrow(ParseError);
    expect(() => datasetFromCsvText(text, 'd.csv')).toThrow(
      "d.csv: row 2 (line 3), column 2 'b': 'oops' is not a number (input columns must be numeric)",
    );
    expect(() => datasetFromCsvText('a,label\n1,0\n,1\n', 'e.csv')).toThrow(
      "e.csv: row 2 (line 3), column 1 'a': empty cell is not a number",
    );
    expect(() => datasetFromCsvText('a,label\n1,0\ninf,1\n', 'e.csv')).toThrow(
      "row 2 (line 3), column 1 'a': 'inf' is not a number",
    );
    expect(() => datasetFromCsvText('a,label\n1,0\nInfinity,1\n', 'e.csv')).toThrow(
      /'Infinity' is not a finite number/,
    );
    expect(() => datasetFromCsvText('a,b,label\n1,2,0\n3,4\n', 'r.csv')).toThrow(
      'r.csv: row 2 (line 3) has 2 cells, the header has 3 columns',
    );
    expect(() => datasetFromCsvText('a,label\n1,0\n2,\n', 'l.csv')).toThrow(
      "l.csv: row 2 (line 3), column 2 'label': empty label",
    );
    expect(() => datasetFromCsvText('a,label\n1,"0\n', 'q.csv')).toThrow(
      'q.csv: line 2: a quoted cell is not closed',
    );
    expect(() => datasetFromCsvText('a,b\n', 'h.csv')).toThrow('h.csv: no data rows after the header');
    expect(() => datasetFromCsvText('\n\n', 'z.csv')).toThrow('z.csv: empty file');
    expect(() => datasetFromCsvText('label\n1\n', 'one.csv')).toThrow(
      /one\.csv: the header has 1 column \('label'\)/,
    );
    // A label that is neither in a class-name column nor fits the kind.
    expect(() =>
      datasetFromCsvText('a,label\n1,0\n2,0.5\n3,1\n', 'k.csv', { kind: 'classification' }),
    ).toThrow("k.csv: row 2 (line 3), column 2 'label': label 0.5 is not an integer class label");
  });

  it('list the columns they have when the label column is missing', () => {
    const p = file('cols.csv', 'sepal length,petal,kind\n1,2,a\n3,4,b\n');
    expect(() => datasetFromFile(p, { labelColumn: 'species' })).toThrow(
      `${p}: no column 'species' in the header; the columns are: 'sepal length', 'petal', 'kind'`,
    );
  });
});

describe('.npy files', () => {
  it('read float inputs with integer, boolean or string labels (C and Fortran order)', () => {
    const X = [
      [1, 2],
      [3, 4],
      [5, 6],
      [7, 8],
    ];
    const x = file('X.npy', f8Npy(X));
    const y = file('y.npy', npy('<i8', [4], i8([2, 0, 2, 5])));
    const d = datasetFromFile(x, { labels: y, standardise: false, testFraction: 0.25 });
    expect([d.name, d.kind, d.classes, d.inputDim]).toEqual(['X.npy', 'classification', ['0', '2', '5'], 2]);
    const byRow = new Map(X.map((r, i) => [r[0], [1, 0, 1, 2][i]]));
    for (const s of [d.train, d.test])
      for (let r = 0; r < s.n; r++) {
        expect(s.x[2 * r + 1]).toBe(s.x[2 * r] + 1);
        expect(s.y[r]).toBe(byRow.get(s.x[2 * r]));
      }
    // Fortran order: the file holds column 0, then column 1.
    const xf = file(
      'Xf.npy',
      npy('<f8', [4, 2], new Uint8Array(Float64Array.from([1, 3, 5, 7, 2, 4, 6, 8]).buffer), true),
    );
    const df = datasetFromFile(xf, { labels: y, standardise: false, testFraction: 0.25 });
    expect(Array.from(df.train.x)).toEqual(Array.from(d.train.x));
    const names = file('names.npy', npy('<U5', [4, 1], unicode(['ham', 'spam', 'ham', 'ham'], 5)));
    expect(datasetFromFile(x, { labels: names }).classes).toEqual(['ham', 'spam']);
    const bools = file('b.npy', npy('|b1', [4], Uint8Array.from([1, 0, 0, 1])));
    expect(datasetFromFile(x, { labels: bools }).classes).toEqual(['0', '1']);
    const f4 = file('f4.npy', npy('<f4', [4], new Uint8Array(Float32Array.from([0.5, 1, 1.5, 2]).buffer)));
    expect(datasetFromFile(x, { labels: f4 }).kind).toBe('regression');
  });

  it('name both files and shapes when they disagree, and the file of every other fault', () => {
    const x = file(
      'X5.npy',
      f8Npy([
        [1, 2],
        [3, 4],
        [5, 6],
        [7, 8],
        [9, 0],
      ]),
    );
    const y4 = file('y4.npy', npy('<i8', [4], i8([0, 1, 0, 1])));
    const err = () => datasetFromFile(x, { labels: y4 });
    expect(err).toThrow(ShapeError);
    expect(err).toThrow(
      `inputs ${x} have shape (5, 2) but labels ${y4} have shape (4,): expected (5,) or (5, 1)`,
    );
    const y52 = file('y52.npy', npy('<i8', [5, 2], i8([0, 1, 0, 1, 0, 1, 0, 1, 0, 1])));
    expect(() => datasetFromFile(x, { labels: y52 })).toThrow(
      /have shape \(5, 2\): expected \(5,\) or \(5, 1\)/,
    );
    expect(() => datasetFromFile(x)).toThrow(UsageError);
    expect(() => datasetFromFile(x)).toThrow(/needs its labels: pass labels/);
    expect(() => datasetFromFile(x, { labels: join(dir, 'nope.npy') })).toThrow(
      /nope\.npy: cannot read the file/,
    );
    const c16 = file('c.npy', npy('<c16', [5], new Uint8Array(80)));
    expect(() => datasetFromFile(x, { labels: c16 })).toThrow(`${c16}: unsupported dtype '<c16'`);
    const short = file('short.npy', npy('<i8', [5], i8([0, 1, 0])));
    expect(() => datasetFromFile(x, { labels: short })).toThrow(
      /short\.npy: truncated data: shape \(5,\) of <i8 needs 40 bytes, found 24/,
    );
    const oneD = file('x1.npy', npy('<f8', [5], new Uint8Array(40)));
    expect(() => datasetFromFile(oneD, { labels: y4 })).toThrow(
      /x1\.npy: expected a 2-D array of inputs \(n, d\), got shape \(5,\)/,
    );
    const nan = file(
      'nan.npy',
      f8Npy([
        [1, 2],
        [3, Number.NaN],
        [5, 6],
        [7, 8],
      ]),
    );
    expect(() => datasetFromFile(nan, { labels: y4 })).toThrow(
      /nan\.npy: X\[1, 1\] = NaN is not a finite number/,
    );
    const fake = file('fake.npy', 'hello, world');
    expect(() => datasetFromFile(fake, { labels: y4 })).toThrow(/fake\.npy: not a \.npy file/);
    expect(() => datasetFromFile(file('d.parquet', 'x'))).toThrow("unsupported file type '.parquet'");
    expect(readFileSync(x).length).toBeGreaterThan(80);
  });
});
