/**
 * Every training knob in one schema: its type, range and help, which optimizers read it, and its
 * command-line flag. The CLI flags, `--config FILE.json`, the docs table and the tests all read this
 * table; nothing else lists the knobs.
 */
import { UsageError } from '../errors.js';
import type { TaskKfacOptions } from './optimizers.js';

export type SettingType = 'number' | 'integer' | 'boolean' | 'choice';

export interface SettingSpec {
  type: SettingType;
  help: string;
  /** Inclusive bounds for numbers; `exclusiveMin` makes the lower one strict. */
  min?: number;
  max?: number;
  exclusiveMin?: boolean;
  choices?: readonly string[];
  /** Optimizers that read it ('*': all). */
  appliesTo: readonly string[] | '*';
  /** The command-line flag (without --); absent: only through --config. */
  flag?: string;
}

const KFAC = ['kfac', 'muon-kfac'] as const;

/** The optimizer settings (the `optimizer` object of --config). */
export const OPTIMIZER_SETTINGS = {
  lr: { type: 'number', min: 0, exclusiveMin: true, help: 'learning rate', appliesTo: '*', flag: 'lr' },
  damping: {
    type: 'number',
    min: 0,
    exclusiveMin: true,
    help: 'K-FAC damping λ (its start when adapted)',
    appliesTo: KFAC,
    flag: 'damping',
  },
  adaptDamping: {
    type: 'boolean',
    help: 'Levenberg–Marquardt adaptation of λ every 5 steps (needs rule momentum or quadratic)',
    appliesTo: ['kfac'],
    flag: 'adapt-damping',
  },
  rule: {
    type: 'choice',
    choices: ['momentum', 'quadratic', 'kl-clip', 'fixed'],
    help: 'K-FAC step rule: 2-D quadratic model (step and momentum), 1-D model, KL clip, or lr·Δ',
    appliesTo: ['kfac'],
    flag: 'kfac-rule',
  },
  klClip: {
    type: 'number',
    min: 0,
    exclusiveMin: true,
    help: "bound of K-FAC's KL clip (rule kl-clip)",
    appliesTo: KFAC,
    flag: 'kl-clip',
  },
  inverse: {
    type: 'choice',
    choices: ['eigh', 'cholesky', 'newton-schulz', 'exact'],
    help: 'how K-FAC inverts its damped factors (eigh, cholesky: f64 on the host; the others on the device)',
    appliesTo: KFAC,
    flag: 'inverse',
  },
  inverseEvery: {
    type: 'integer',
    min: 1,
    help: "steps between K-FAC's factorisations",
    appliesTo: KFAC,
    flag: 'inverse-every',
  },
  inverseWarmup: {
    type: 'integer',
    min: 0,
    help: 'K-FAC refreshes its factorisations at each of the first this-many steps',
    appliesTo: KFAC,
    flag: 'inverse-warmup',
  },
  curvatureBatch: {
    type: 'integer',
    min: 1,
    help: "rows of each batch K-FAC's curvature uses: its factor statistics and the quadratic model's Fisher products (default: the task's — 250 on mnist-autoencoder — else the whole batch; the CPU engine's MLPs)",
    appliesTo: KFAC,
    flag: 'curvature-batch',
  },
  decay: {
    type: 'number',
    min: 0,
    max: 1,
    exclusiveMin: true,
    help: "K-FAC factor averages' decay (debiased: min(1 − 1/k, decay))",
    appliesTo: KFAC,
  },
  momentum: {
    type: 'number',
    min: 0,
    max: 1,
    help: 'momentum β of momentum (default 0.9) and muon (default 0.95)',
    appliesTo: ['momentum', 'muon'],
    flag: 'momentum',
  },
  weightDecay: {
    type: 'number',
    min: 0,
    help: 'decoupled weight decay of adamw (default 1e-4) and muon (default 0)',
    appliesTo: ['adamw', 'muon'],
    flag: 'weight-decay',
  },
  b1: { type: 'number', min: 0, max: 1, help: "Adam's β₁ (default 0.9)", appliesTo: ['adam', 'adamw'] },
  b2: { type: 'number', min: 0, max: 1, help: "Adam's β₂ (default 0.999)", appliesTo: ['adam', 'adamw'] },
} as const satisfies Record<string, SettingSpec>;

/** The task settings (the `task` object of --config). */
export const TASK_SETTINGS = {
  batch: { type: 'integer', min: 1, help: "batch size (default: the task's)", appliesTo: '*', flag: 'batch' },
  steps: {
    type: 'integer',
    min: 1,
    help: 'number of steps (overrides epochs)',
    appliesTo: '*',
    flag: 'steps',
  },
  epochs: { type: 'number', min: 0, exclusiveMin: true, help: 'epochs', appliesTo: '*', flag: 'epochs' },
  maxSeconds: {
    type: 'number',
    min: 0,
    exclusiveMin: true,
    help: "a wall-time budget: stop after the first step that ends past this many seconds of this run's training (checkpoint and metrics are written as at the end; `riesz compare` gives every optimizer the same budget)",
    appliesTo: '*',
    flag: 'max-seconds',
  },
  l2: {
    type: 'number',
    min: 0,
    help: "η of the objective's ½η‖θ‖² (default: the task's; the autoencoder's is 1e-5)",
    appliesTo: '*',
    flag: 'l2',
  },
  batchSchedule: {
    type: 'number',
    min: 0,
    exclusiveMin: true,
    help: 'grow the batch, m_k = min(batch·2^{k/D}, N), doubling every D steps',
    appliesTo: '*',
    flag: 'batch-schedule',
  },
  init: {
    type: 'choice',
    choices: ['scaled-normal', 'glorot-uniform', 'sparse'],
    help: "weight initialisation of the MLP tasks (default: the task's)",
    appliesTo: '*',
  },
  nonFinite: {
    type: 'choice',
    choices: ['stop', 'skip'],
    help: 'on a NaN/Inf loss or gradient: stop with an error naming the step and parameter (default), or skip the step and count it',
    appliesTo: '*',
    flag: 'on-nonfinite',
  },
} as const satisfies Record<string, SettingSpec>;

export type OptimizerSettings = {
  -readonly [K in keyof typeof OPTIMIZER_SETTINGS]?: ValueOf<(typeof OPTIMIZER_SETTINGS)[K]>;
};
export type TaskSettings = {
  -readonly [K in keyof typeof TASK_SETTINGS]?: ValueOf<(typeof TASK_SETTINGS)[K]>;
};
type ValueOf<S> = S extends { type: 'boolean' } ? boolean : S extends { type: 'choice' } ? string : number;

function describeRange(s: SettingSpec): string {
  if (s.type === 'choice') return `one of ${s.choices!.join(', ')}`;
  if (s.type === 'boolean') return 'true or false';
  const lo = s.min === undefined ? '' : `${s.exclusiveMin ? '>' : '≥'} ${s.min}`;
  const hi = s.max === undefined ? '' : `≤ ${s.max}`;
  return [s.type === 'integer' ? 'an integer' : 'a number', lo, hi].filter(Boolean).join(' ');
}

/** Checks one value against its spec; throws a UsageError that says what is valid. */
export function checkSetting(
  where: string,
  key: string,
  spec: SettingSpec,
  value: unknown,
): string | number | boolean {
  const bad = () =>
    new UsageError(`${where} '${key}' must be ${describeRange(spec)}, got ${JSON.stringify(value)}`);
  if (spec.type === 'boolean') {
    if (typeof value !== 'boolean') throw bad();
    return value;
  }
  if (spec.type === 'choice') {
    if (typeof value !== 'string' || !spec.choices!.includes(value)) throw bad();
    return value;
  }
  if (typeof value !== 'number' || !Number.isFinite(value)) throw bad();
  if (spec.type === 'integer' && !Number.isInteger(value)) throw bad();
  if (spec.min !== undefined && (spec.exclusiveMin ? value <= spec.min : value < spec.min)) throw bad();
  if (spec.max !== undefined && value > spec.max) throw bad();
  return value;
}

/** Validates an object of settings against a schema: unknown keys and bad values are errors. */
export function checkSettings<T>(where: string, schema: Record<string, SettingSpec>, raw: unknown): T {
  if (raw === undefined) return {} as T;
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw))
    throw new UsageError(`${where} must be a JSON object`);
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(raw)) {
    const spec = schema[k];
    if (!spec)
      throw new UsageError(
        `${where} has no setting '${k}'; valid settings: ${Object.keys(schema).join(', ')}`,
      );
    out[k] = checkSetting(where, k, spec, v);
  }
  return out as T;
}

/** The settings of a --config file's text: {"optimizer": {...}, "task": {...}}. */
export function parseConfig(
  text: string,
  file: string,
): { optimizer: OptimizerSettings; task: TaskSettings } {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new UsageError(`--config ${file}: not valid JSON (${(e as Error).message})`);
  }
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw))
    throw new UsageError(`--config ${file} must hold a JSON object with "optimizer" and/or "task"`);
  for (const k of Object.keys(raw))
    if (k !== 'optimizer' && k !== 'task')
      throw new UsageError(`--config ${file} has no section '${k}'; valid sections: optimizer, task`);
  const r = raw as { optimizer?: unknown; task?: unknown };
  return {
    optimizer: checkSettings<OptimizerSettings>(
      `--config ${file} optimizer`,
      OPTIMIZER_SETTINGS,
      r.optimizer,
    ),
    task: checkSettings<TaskSettings>(`--config ${file} task`, TASK_SETTINGS, r.task),
  };
}

/** The K-FAC options among optimizer settings. */
export function kfacOptionsOf(s: OptimizerSettings): TaskKfacOptions {
  const k: TaskKfacOptions = {};
  if (s.damping !== undefined) k.damping = s.damping;
  if (s.adaptDamping !== undefined) k.adaptDamping = s.adaptDamping;
  if (s.rule !== undefined) k.rule = s.rule as TaskKfacOptions['rule'];
  if (s.inverse !== undefined) k.inverse = s.inverse as TaskKfacOptions['inverse'];
  if (s.inverseEvery !== undefined) k.inverseEvery = s.inverseEvery;
  if (s.inverseWarmup !== undefined) k.inverseWarmup = s.inverseWarmup;
  if (s.decay !== undefined) k.decay = s.decay;
  if (s.curvatureBatch !== undefined) k.curvatureBatch = s.curvatureBatch;
  return k;
}

/** A Markdown table of a schema (docs/optimizers.md). */
export function settingsTable(schema: Record<string, SettingSpec>): string {
  const rows = Object.entries(schema).map(
    ([k, s]) =>
      `| \`${k}\` | ${s.flag ? `\`--${s.flag}\`` : '—'} | ${describeRange(s)} | ${s.appliesTo === '*' ? 'all' : s.appliesTo.join(', ')} | ${s.help} |`,
  );
  return ['| setting | flag | values | optimizers | what |', '|---|---|---|---|---|', ...rows].join('\n');
}
