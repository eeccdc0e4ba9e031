/**
 * The optimizers `riesz train` knows, each with the routing the brief asks for: matrix methods
 * (Muon, Shampoo, Pion) take the hidden weight matrices and AdamW the rest (biases, the output head
 * named by the model — none for a linear model, whose only layer is then the matrix method's);
 * K-FAC and Muon-in-K-FAC-metrics precondition every dense layer (biases folded into the factors).
 */
import { UsageError } from '../errors.js';
import { adam, adamw, frobenius, kfac, momentum, muon, muonKfac, sgd, shampoo } from '../optim/alias.js';
import { pion } from '../optim/geometry-transforms.js';
import type { KfacOptions } from '../optim/kfac.js';
import { multiTransform, routeAll, routingTable } from '../optim/partition.js';
import type { GradientTransformation, ParamDict } from '../optim/types.js';
import type { OptimizerSettings } from './settings.js';

export const OPTIMIZERS = [
  'sgd',
  'momentum',
  'adam',
  'adamw',
  'frobenius-identity',
  'kfac',
  'shampoo',
  'muon',
  'muon-kfac',
  'pion',
] as const;
export type OptimizerName = (typeof OPTIMIZERS)[number];

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
>;

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
}

export function buildOptimizer(
  name: string,
  lr: number,
  params: ParamDict,
  head: string[],
  {
    klClip,
    kfac: kfacOpts = {},
    l2 = 0,
    settings = {},
  }: {
    klClip?: number;
    kfac?: TaskKfacOptions;
    /** η of the objective's ½η‖θ‖² (K-FAC adds it to its damping). */
    l2?: number;
    /** Other knobs (train/settings.ts): momentum, weight decay, Adam's betas, the KL clip. */
    settings?: Pick<OptimizerSettings, 'momentum' | 'weightDecay' | 'b1' | 'b2' | 'klClip'>;
  } = {},
): BuiltOptimizer {
  if (settings.klClip !== undefined) {
    // An explicit KL clip is a step rule of its own for K-FAC.
    klClip = settings.klClip;
    if (kfacOpts.rule === undefined)
      kfacOpts = { ...kfacOpts, rule: 'kl-clip', adaptDamping: false, quadraticStep: false };
  }
  const betas = { b1: settings.b1, b2: settings.b2 };
  if (!(OPTIMIZERS as readonly string[]).includes(name)) {
    throw new UsageError(`unknown optimizer '${name}'; valid optimizers: ${OPTIMIZERS.join(', ')}`);
  }
  const everything = (
    opt: GradientTransformation<unknown>,
    label: string,
    fisher: 'true' | 'none' = 'none',
  ) => ({
    opt,
    fisher,
    table: routingTable(params, Object.fromEntries(Object.keys(params).map((k) => [k, label]))),
  });
  const routed = (method: GradientTransformation<unknown>, label: string) => {
    const labels = routeAll(params, { head, matrixLabel: label, fallbackLabel: 'adamw' });
    return {
      opt: multiTransform({ [label]: method, adamw: adamw(1e-3, { weightDecay: 0 }) }, labels),
      fisher: 'none' as const,
      table: routingTable(params, labels),
    };
  };
  switch (name as OptimizerName) {
    case 'sgd':
      return everything(sgd(lr), 'sgd');
    case 'momentum':
      return everything(momentum(lr, { decay: settings.momentum ?? 0.9 }), 'momentum');
    case 'adam':
      return everything(adam(lr, betas), 'adam');
    case 'adamw':
      return everything(adamw(lr, { weightDecay: settings.weightDecay ?? 1e-4, ...betas }), 'adamw');
    case 'frobenius-identity':
      return everything(frobenius(lr), 'frobenius (V = W = I)');
    case 'kfac':
      // The KL clip (as in kfac-pytorch) keeps early natural-gradient steps from overshooting:
      // MNIST MLP, 1 epoch: lr 0.2 with clip 0.01 reaches 97.6%, lr ≥ 0.15 without it diverges.
      // With the quadratic-model step the KL clip is off: the model sets the step length.
      // With the quadratic model (rules 'momentum', 'quadratic') the KL clip is off: the model sets
      // the step length.
      return {
        ...everything(
          kfac(lr, {
            klClip:
              kfacOpts.rule === 'kl-clip' || (!usesQuadraticModel(kfacOpts) && kfacOpts.rule !== 'fixed')
                ? klClip
                : undefined,
            ...kfacOpts,
            l2,
            lr,
          }),
          'kfac',
          'true',
        ),
        curvature: usesQuadraticModel(kfacOpts),
      };
    case 'muon-kfac':
      return everything(
        muonKfac(lr, {
          klClip: klClip === undefined ? undefined : { lr, max: klClip },
          ...kfacOpts,
          // The polar step keeps its KL clip (its model step is not implemented).
          rule: klClip === undefined ? 'fixed' : 'kl-clip',
          adaptDamping: false,
          quadraticStep: false,
          l2,
        }),
        'muon-kfac',
        'true',
      );
    case 'shampoo':
      return routed(shampoo(lr), 'shampoo');
    case 'muon':
      return routed(
        muon(lr, { beta: settings.momentum ?? 0.95, weightDecay: settings.weightDecay ?? 0 }),
        'muon',
      );
    case 'pion':
      // Pion emits its (already scaled) rotation step itself.
      return routed(pion({ lr }), 'pion');
  }
}
