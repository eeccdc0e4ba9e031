/** The README's optimizer example, as written, on random data (through the package's public entry). */
import { numpy as np, random } from '@jax-js/jax';
import { expect, it } from 'vitest';
import {
  applyUpdates,
  initDevice,
  initMlp,
  kfac,
  mlpLossAndGrads,
  softmaxCrossEntropy,
} from '../src/index.js';

it('README optimizer example runs and lowers the loss', async () => {
  await initDevice('wasm');
  const spec = { sizes: [784, 256, 10] };
  let params = initMlp(spec, 0);
  const opt = kfac(0.1);
  let state = opt.init(params);
  const x = random.normal(random.key(1), [32, 784]);
  const y = np.array(
    Array.from({ length: 32 }, (_, i) => (i * 7) % 10),
    { dtype: np.int32 },
  );
  const losses: number[] = [];
  for (let step = 0; step < 5; step++) {
    const { loss, grads, taps } = mlpLossAndGrads(params, x.ref, y.ref, spec, softmaxCrossEntropy, {
      fisher: 'true',
      key: random.key(10 + step),
    });
    losses.push((loss.dataSync() as Float32Array)[0]);
    const [updates, next] = await opt.update(grads, state, params, { taps });
    params = applyUpdates(params, updates);
    state = next;
  }
  expect(losses[4]).toBeLessThan(losses[0]);
}, 120_000);
