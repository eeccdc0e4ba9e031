/**
 * The registry of the optimizers `riesz train` knows: for each, one line of description and how it
 * is built, with the routing the brief asks for — matrix methods (Muon, Shampoo, Pion) take the hidden
 * weight matrices and AdamW the rest (biases, the output head named by the model — none for a linear
 * model, whose only layer is then the matrix method's); K-FAC and Muon-in-K-FAC-metrics precondition
 * every dense layer (biases folded into the factors). The knobs each one reads are in
 * train/settings.ts (`appliesTo`); the learning rates per task are in train/tasks.ts. The CLI, the
 * docs table (`optimizerTable`) and the tests read this registry; nothing else lists the optimizers.
 */
import { UsageError } from '../errors.js';
import { adam, adamw, frobenius, kfac, momentum, muon, muonKfac, sgd, shampoo } from '../optim/alias.js';
import { pion } from '../optim/geometry-transforms.js';
import type { KfacOptions } from '../optim/kfac.js';
import { multiTransform, routeAll, routingTable } from '../optim/partition.js';
import type { ShampooOptions } from '../optim/shampoo.js';
import type { GradientTransformation, ParamDict } from '../optim/types.js';
import { OPTIMIZER_SETTINGS, type OptimizerSettings, type SettingSpec } from './settings.js';

/** K-FAC settings a task may change from the defaults (both K-FAC and Muon-in-K-FAC-metrics use them). */
export type TaskKfacOptions = Pick<
  KfacOptions,
  | 'damping'
  | 'adaptDamping'
  | 'inverseEvery'
  | 'inverseWarmup'
  | 'quadraticStep'
  | 'rule'
  | 'inverse'
  | 'decay'
> & {
  /**
   * Rows of each batch the curvature uses (the sampled-target taps and the quadratic model's Fisher
   * products; the loss and gradient use the whole batch): the training step passes it to the model.
   */
  curvatureBatch?: number;
};

/** Whether K-FAC's settings use the damped quadratic model (which needs Fisher products per batch). */
export function usesQuadraticModel(k: TaskKfacOptions): boolean {
  return (
    k.rule === 'momentum' || k.rule === 'quadratic' || (k.rule === undefined && k.quadraticStep === true)
  );
}

export interface BuiltOptimizer {
  opt: GradientTransformation<unknown>;
  /** Curvature taps the optimizer needs from the model. */
  fisher: 'true' | 'none';
  /** Whether it needs Fisher products and trial losses on each batch (ctx.curvatureGram, ctx.lossAt). */
  curvature?: boolean;
  /** Who gets which method. */
  table: string;
  /** Rows of each batch for the curvature taps and Fisher products (absent: the whole batch). */
  curvatureRows?: number;
}

/** What a builder gets: the learning rate, the model's parameters and head, and the settings. */
interface BuildContext {
  lr: number;
  klClip?: number;
  kfac: TaskKfacOptions;
  shampoo: ShampooOptions;
  l2: number;
  settings: Pick<OptimizerSettings, 'momentum' | 'weightDecay' | 'b1' | 'b2' | 'klClip'>;
  /** The whole model gets one method. */
  everything(opt: GradientTransformation<unknown>, label: string, fisher?: 'true' | 'none'): BuiltOptimizer;
  /** The hidden weight matrices get the method, AdamW the rest. */
  routed(method: GradientTransformation<unknown>, label: string): BuiltOptimizer;
}

interface OptimizerEntry {
  description: string;
  build(c: BuildContext): BuiltOptimizer;
}

const REGISTRY = {
  sgd: {
    description: 'gradient descent: the identity geometry',
    build: (c) => c.everything(sgd(c.lr), 'sgd'),
  },
  momentum: {
    description: 'heavy-ball momentum',
    build: (c) => c.everything(momentum(c.lr, { decay: c.settings.momentum ?? 0.9 }), 'momentum'),
  },
  adam: {
    description: 'Adam: a diagonal metric from the gradients’ second moments',
    build: (c) => c.everything(adam(c.lr, { b1: c.settings.b1, b2: c.settings.b2 }), 'adam'),
  },
  adamw: {
    description: 'Adam with decoupled weight decay',
    build: (c) =>
      c.everything(
        adamw(c.lr, { weightDecay: c.settings.weightDecay ?? 1e-4, b1: c.settings.b1, b2: c.settings.b2 }),
        'adamw',
      ),
  },
  'frobenius-identity': {
    description: 'Frobenius-type steepest descent with V = W = I (equals sgd bit for bit)',
    build: (c) => c.everything(frobenius(c.lr), 'frobenius (V = W = I)'),
  },
  kfac: {
    description: 'K-FAC: the Frobenius-type Riesz gradient with V = Ā⁻¹, W = Γ (curvature blocks)',
    build: (c) => {
      // The KL clip (as in kfac-pytorch) keeps early natural-gradient steps from overshooting
      // (MNIST MLP, 1 epoch: lr 0.2 with clip 0.01 reaches 97.6%, lr ≥ 0.15 without it diverges).
      // With the quadratic model (rules 'momentum', 'quadratic') the model sets the step length.
      const k = c.kfac;
      const clip =
        k.rule === 'kl-clip' || (!usesQuadraticModel(k) && k.rule !== 'fixed') ? c.klClip : undefined;
      const { curvatureBatch, ...options } = k;
      return {
        ...c.everything(kfac(c.lr, { klClip: clip, ...options, l2: c.l2, lr: c.lr }), 'kfac', 'true'),
        curvature: usesQuadraticModel(k),
        ...(curvatureBatch === undefined ? {} : { curvatureRows: curvatureBatch }),
      };
    },
  },
  shampoo: {
    description: 'Shampoo: L^{−1/4} G R^{−1/4}, grafted to Adam',
    build: (c) => c.routed(shampoo(c.lr, c.shampoo), 'shampoo'),
  },
  muon: {
    description: 'Muon: the operator-norm dual map (polar factor) of momentum, V = W = I',
    build: (c) =>
      c.routed(
        muon(c.lr, { beta: c.settings.momentum ?? 0.95, weightDecay: c.settings.weightDecay ?? 0 }),
        'muon',
      ),
  },
  'muon-kfac': {
    description: 'Muon in K-FAC’s metrics: the operator-norm dual map with V = Ā⁻¹, W = Γ',
    build: (c) => {
      const { curvatureBatch, ...options } = c.kfac;
      return {
        ...c.everything(
          muonKfac(c.lr, {
            klClip: c.klClip === undefined ? undefined : { lr: c.lr, max: c.klClip },
            ...options,
            // The polar step keeps its KL clip (its model step is not implemented).
            rule: c.klClip === undefined ? 'fixed' : 'kl-clip',
            adaptDamping: false,
            quadraticStep: false,
            l2: c.l2,
          }),
          'muon-kfac',
          'true',
        ),
        ...(curvatureBatch === undefined ? {} : { curvatureRows: curvatureBatch }),
      };
    },
  },
  pion: {
    description: 'Pion: spectrum-preserving rotations W ← E(A_out) W E(A_in)',
    // Pion emits its (already scaled) rotation step itself.
    build: (c) => c.routed(pion({ lr: c.lr }), 'pion'),
  },
} as const satisfies Record<string, OptimizerEntry>;

/** The name of an optimizer `riesz train` knows, e.g. 'adamw', 'kfac', 'muon'. */
export type OptimizerName = keyof typeof REGISTRY;
/** Every {@link OptimizerName}, in the registry's order. */
export const OPTIMIZERS = Object.keys(REGISTRY) as OptimizerName[];

export function buildOptimizer(
  name: string,
  lr: number,
  params: ParamDict,
  head: string[],
  {
    klClip,
    kfac: kfacOpts = {},
    shampoo: shampooOpts = {},
    l2 = 0,
    settings = {},
  }: {
    klClip?: number;
    kfac?: TaskKfacOptions;
    /** Shampoo's options beyond the learning rate (where its roots are taken; default: none). */
    shampoo?: ShampooOptions;
    /** η of the objective's ½η‖θ‖² (K-FAC adds it to its damping). */
    l2?: number;
    /** Other knobs (train/settings.ts): momentum, weight decay, Adam's betas, the KL clip. */
    settings?: Pick<OptimizerSettings, 'momentum' | 'weightDecay' | 'b1' | 'b2' | 'klClip'>;
  } = {},
): BuiltOptimizer {
  const entry = (REGISTRY as Record<string, OptimizerEntry>)[name];
  if (!entry) throw new UsageError(`unknown optimizer '${name}'; valid optimizers: ${OPTIMIZERS.join(', ')}`);
  if (settings.klClip !== undefined) {
    // An explicit KL clip is a step rule of its own for K-FAC.
    klClip = settings.klClip;
    if (kfacOpts.rule === undefined)
      kfacOpts = { ...kfacOpts, rule: 'kl-clip', adaptDamping: false, quadraticStep: false };
  }
  const everything: BuildContext['everything'] = (opt, label, fisher = 'none') => ({
    opt,
    fisher,
    table: routingTable(params, Object.fromEntries(Object.keys(params).map((k) => [k, label]))),
  });
  const routed: BuildContext['routed'] = (method, label) => {
    const labels = routeAll(params, { head, matrixLabel: label, fallbackLabel: 'adamw' });
    return {
      opt: multiTransform({ [label]: method, adamw: adamw(1e-3, { weightDecay: 0 }) }, labels),
      fisher: 'none',
      table: routingTable(params, labels),
    };
  };
  return entry.build({ lr, klClip, kfac: kfacOpts, shampoo: shampooOpts, l2, settings, everything, routed });
}

/** The settings (train/settings.ts) an optimizer reads. */
export function settingsOf(name: OptimizerName): string[] {
  return Object.entries(OPTIMIZER_SETTINGS as Record<string, SettingSpec>)
    .filter(([, s]) => s.appliesTo === '*' || s.appliesTo.includes(name))
    .map(([k]) => k);
}

/** The Markdown table of the registry (docs/optimizers.md). */
export function optimizerTable(): string {
  return [
    '| optimizer | what | settings |',
    '|---|---|---|',
    ...OPTIMIZERS.map(
      (n) =>
        `| \`${n}\` | ${REGISTRY[n].description} | ${settingsOf(n)
          .map((k) => `\`${k}\``)
          .join(', ')} |`,
    ),
  ].join('\n');
}
