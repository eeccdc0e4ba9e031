import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { ready } from '../../test/jax-setup.js';
import { datasetFromArrays, lossInOriginalUnits } from '../data/user-data.js';
import { UsageError } from '../errors.js';
import { train } from './loop.js';
import { loadTask } from './tasks.js';
import { defaultHiddenWidth, mlpTask, UCI_TASKS, uciDataset, uciTask } from './user-task.js';

beforeAll(async () => {
  await ready;
});

/** The code of the first ```ts block of the TSDoc comment above `export function name`. */
function tsdocExample(file: string, name: string): string {
  const src = readFileSync(new URL(file, import.meta.url), 'utf8');
  const end = src.indexOf(`export function ${name}(`);
  const doc = src.slice(src.lastIndexOf('/**', end), end);
  const block = /```ts\n([\s\S]*?)\n\s*\*\s*```/.exec(doc);
  if (!block) throw new Error(`no @example code block for ${name}`);
  return block[1]
    .split('\n')
    .map((l) => l.replace(/^\s*\* ?/, ''))
    .join('\n');
}

describe('mlpTask', () => {
  const X = Array.from({ length: 200 }, (_, i) => [i % 10, (i * 7) % 13, i % 3]);

  it('sizes the MLP, the batch and the loss to the data', () => {
    const cls = mlpTask(
      datasetFromArrays(
        X,
        X.map((r) => (r[0] > 4 ? 'big' : 'small')),
        { name: 'pts.csv' },
      ),
    );
    expect(cls.name).toBe('user:pts.csv');
    expect([cls.classifier, cls.loss.name, cls.model.inputShape]).toEqual([
      true,
      'softmax-cross-entropy',
      [3],
    ]);
    expect(cls.model.description).toBe('MLP 3-16-2 (relu)');
    expect(cls.description).toMatch(/pts\.csv: 180 \+ 20 rows of 3 inputs, 2 classes.*inputs standardised/);
    expect(cls.batch).toBe(16); // 180 / 8 ≈ 22 → 16
    expect(cls.epochs * Math.floor(cls.train.n / cls.batch)).toBeGreaterThanOrEqual(500);
    const reg = mlpTask(
      datasetFromArrays(
        X,
        X.map((r) => r[0] + 0.5 * r[1] + 0.1),
      ),
      { hidden: [8, 4] },
    );
    expect([reg.name, reg.classifier, reg.loss.name]).toEqual(['user:arrays', false, 'squared-error']);
    expect(reg.model.description).toBe('MLP 3-8-4-1 (relu)');
    expect(reg.description).toMatch(
      /regression, squared error on the standardised target \(×[\d.]+ for the original units\)/,
    );
    expect([defaultHiddenWidth(3), defaultHiddenWidth(50), defaultHiddenWidth(784)]).toEqual([16, 100, 256]);
    // Never a batch larger than the training split (an epoch of no steps).
    const tiny = mlpTask(datasetFromArrays(X.slice(0, 9), [0, 1, 0, 1, 0, 1, 0, 1, 0]));
    expect([tiny.train.n, tiny.batch]).toEqual([8, 8]);
    expect(() =>
      mlpTask(
        datasetFromArrays(
          X,
          X.map((r) => r[2]),
        ),
        { hidden: [0] },
      ),
    ).toThrow(UsageError);
  });

  it('has a learning rate for every optimizer the built-in tasks have one for', () => {
    const task = mlpTask(
      datasetFromArrays(
        X,
        X.map((r) => r[2]),
      ),
    );
    expect(Object.keys(task.lr).sort()).toEqual(Object.keys(loadTask('linreg-aniso').lr).sort());
  });
});

describe('the UCI tasks', () => {
  it('load every vendored set with its size, kind and class names', () => {
    const want: Record<string, [number, number, number, string]> = {
      'uci-iris': [150, 4, 3, 'setosa'],
      'uci-wine': [178, 13, 3, 'class_0'],
      'uci-breast-cancer': [569, 30, 2, 'malignant'],
      'uci-digits': [1797, 64, 10, '0'],
      'uci-diabetes': [442, 10, 1, ''],
    };
    expect([...UCI_TASKS]).toEqual(Object.keys(want));
    for (const [name, [n, d, out, first]] of Object.entries(want)) {
      const data = uciDataset(name);
      expect([data.train.n + data.test.n, data.inputDim, data.outputDim], name).toEqual([n, d, out]);
      expect(data.test.n).toBe(Math.round(0.2 * n));
      expect(data.kind).toBe(out === 1 ? 'regression' : 'classification');
      if (first) expect(data.classes![0]).toBe(first);
      const task = uciTask(name);
      expect([task.name, task.classifier]).toEqual([name, out > 1]);
    }
    expect(uciDataset('uci-iris').classes).toEqual(['setosa', 'versicolor', 'virginica']);
    // Diabetes's integer targets are regression targets, in standardised units.
    const diabetes = uciDataset('uci-diabetes');
    expect(diabetes.standardisation!.targetStd).toBeGreaterThan(50);
    expect(lossInOriginalUnits(diabetes, 1)).toBeGreaterThan(2500);
    expect(() => uciTask('uci-titanic')).toThrow(/unknown UCI task 'uci-titanic'; valid: uci-iris, uci-wine/);
    expect(() => uciTask('iris')).toThrow(UsageError);
  });

  it('trains: Adam on uci-iris reaches more than 90% test accuracy in 200 steps', async () => {
    const task = uciTask('uci-iris');
    const s = await train(task, { optimizer: 'adam', steps: 200 });
    expect(s.steps).toBe(200);
    expect(s.final_train_loss).toBeLessThan(0.3);
    expect(s.test_accuracy).toBeGreaterThan(0.9);
  }, 120_000);
});

describe('the worked examples of the TSDoc', () => {
  it("datasetFromArrays's example builds what its comments say", () => {
    const code = tsdocExample('../data/user-data.ts', 'datasetFromArrays').replace(/^import .*$/m, '');
    const data = new Function('datasetFromArrays', `${code}\nreturn data;`)(datasetFromArrays);
    expect([data.kind, data.classes, data.train.n, data.test.n]).toEqual([
      'classification',
      ['inside', 'outside'],
      300,
      100,
    ]);
  });

  it("mlpTask's example trains the two half-moons to near-perfect test accuracy", async () => {
    const code = tsdocExample('./user-task.ts', 'mlpTask').replace(/^import .*$/m, '');
    const printed: unknown[][] = [];
    const console = { log: (...a: unknown[]) => printed.push(a) };
    // The example awaits train(): run it as the body of an async function.
    const AsyncFunction = Object.getPrototypeOf(async () => {}).constructor;
    await new AsyncFunction('datasetFromArrays', 'mlpTask', 'train', 'console', code)(
      datasetFromArrays,
      mlpTask,
      train,
      console,
    );
    expect(printed).toHaveLength(1);
    const [name, accuracy] = printed[0] as [string, number];
    expect(name).toBe('user:arrays');
    expect(accuracy).toBeGreaterThan(0.95);
  }, 120_000);
});
