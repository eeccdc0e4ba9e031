/** The training loop's wall-time budget (used by bench/train's time-to-loss race). */
import { beforeAll, describe, expect, it } from 'vitest';
import { ready } from '../../test/jax-setup.js';
import { train } from './loop.js';
import { loadTask } from './tasks.js';

beforeAll(async () => {
  await ready;
});

describe('train with maxWallS', () => {
  it('stops after the first step past the budget, and evaluates there', () => {
    const task = loadTask('linreg-aniso');
    const s = train(task, { optimizer: 'sgd', steps: 50, maxWallS: 0 });
    expect(s.steps).toBe(1);
    expect(Number.isFinite(s.final_test_loss)).toBe(true);
    expect(train(task, { optimizer: 'sgd', steps: 5, maxWallS: 1e6 }).steps).toBe(5);
  });
});
