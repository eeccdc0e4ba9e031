/**
 * Equal-budget learning-rate tuning: every optimizer gets the same number of tries, learning rates on
 * a factor-2 grid centred on its default, each a short run from the same seed; the rate with the
 * lowest final training loss (non-finite counts as worst) wins. Every try is recorded.
 */
import { type TrainOptions, type TrainSummary, train } from './loop.js';
import type { Task } from './tasks.js';

export interface TuningTry {
  optimizer: string;
  lr: number;
  final_train_loss: number;
  diverged: boolean;
}

/** `tries` learning rates around `center`: center·2^k for k = −⌊tries/2⌋ … */
export function lrGrid(center: number, tries: number): number[] {
  const lo = -Math.floor(tries / 2);
  return Array.from({ length: tries }, (_, i) => center * 2 ** (lo + i));
}

export async function tuneLearningRate(
  task: Task,
  optimizer: string,
  tries: number,
  steps: number,
  seed: number,
  /** The other settings of the runs (K-FAC's, L2, …), the same for every try. */
  base: Partial<TrainOptions> = {},
): Promise<{ best: number; log: TuningTry[] }> {
  const log: TuningTry[] = [];
  for (const lr of lrGrid(base.lr ?? task.lr[optimizer] ?? 1e-3, tries)) {
    let s: TrainSummary | null = null;
    try {
      s = await train(task, {
        ...base,
        optimizer,
        lr,
        steps,
        seed,
        onNan: 'stop',
        progress: undefined,
        out: undefined,
      });
    } catch {
      s = null; // diverged (non-finite loss) or a numerical failure: the worst score
    }
    const loss = s?.final_train_loss ?? Number.POSITIVE_INFINITY;
    log.push({ optimizer, lr, final_train_loss: loss, diverged: !Number.isFinite(loss) });
  }
  const best = log.reduce((a, b) => (b.final_train_loss < a.final_train_loss ? b : a));
  return { best: best.lr, log };
}
