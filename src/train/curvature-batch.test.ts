import { describe, expect, it } from 'vitest';
import { ready } from '../../test/jax-setup.js';
import { UsageError } from '../errors.js';
import { initMlp } from '../nn/mlp.js';
import { buildOptimizer } from './optimizers.js';
import { checkSettings, kfacOptionsOf, OPTIMIZER_SETTINGS } from './settings.js';

// curvatureBatch: from the settings (flag or --config) to the built optimizer, which the training
// step reads (curvatureRows) and passes to the model; the engine's side is in dense-engine.test.ts.
describe('curvatureBatch', () => {
  it('flows from the settings to the built K-FAC optimizers, absent by default', async () => {
    await ready;
    const params = initMlp({ sizes: [4, 3, 2], activation: 'tanh' }, 0);
    const settings = checkSettings<Record<string, unknown>>('test', OPTIMIZER_SETTINGS, {
      curvatureBatch: 250,
    });
    const kfac = kfacOptionsOf(settings);
    expect(kfac.curvatureBatch).toBe(250);
    for (const name of ['kfac', 'muon-kfac']) {
      expect(buildOptimizer(name, 0.1, params, [], { kfac }).curvatureRows).toBe(250);
      expect(buildOptimizer(name, 0.1, params, [], { kfac: {} }).curvatureRows).toBeUndefined();
    }
    expect(buildOptimizer('adam', 0.1, params, [], { kfac }).curvatureRows).toBeUndefined();
    for (const v of Object.values(params)) v.dispose();
  });
  it('rejects a non-positive or fractional row count', () => {
    expect(() => checkSettings('test', OPTIMIZER_SETTINGS, { curvatureBatch: 0 })).toThrow(UsageError);
    expect(() => checkSettings('test', OPTIMIZER_SETTINGS, { curvatureBatch: 2.5 })).toThrow(UsageError);
  });
});
