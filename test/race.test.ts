/** riesz compare --reference: when each run first reaches the reference's final loss. */
import { expect, it } from 'vitest';
import { raceTo, summaryTable } from '../src/cli/compare.js';
import type { TrainSummary } from '../src/train/loop.js';

const run = (optimizer: string, losses: number[], stepTime: number) =>
  ({
    optimizer,
    lr: 1,
    steps: losses.length,
    final_train_loss: losses.at(-1),
    final_test_loss: Number.NaN,
    test_accuracy: null,
    final_train_sse: null,
    final_test_sse: null,
    target_loss: null,
    time_to_target_s: null,
    step_time_ms: stepTime * 1000,
    wall_s: losses.length * stepTime,
    curve: losses.map((l, i) => ({ step: i + 1, wall_s: (i + 1) * stepTime, train_loss: l })),
  }) as unknown as TrainSummary;

it('the reference loss is the mean of its last 10 steps; times are the first wall time at or below it', () => {
  const adam = run('adam', [...Array.from({ length: 20 }, (_, i) => 100 - i)], 1); // last 10: 90..81 → 85.5
  const kfac = run('kfac', [120, 95, 86, 85, 70], 3);
  const sgd = run('sgd', [120, 110, 100], 0.5);
  const race = raceTo('adam', [adam, kfac, sgd]);
  expect(race.loss).toBe(85.5);
  expect(race.times).toEqual({ adam: 16, kfac: 12, sgd: null }); // adam's 85 is step 16
  expect(summaryTable([adam, kfac, sgd], race)).toMatch(/\| kfac \|.*\| 12\.0 \|/);
  expect(summaryTable([adam, kfac, sgd], race)).toMatch(/\| sgd \|.*\| not reached \|/);
  expect(() => raceTo('muon', [adam])).toThrow(/not among/);
});
