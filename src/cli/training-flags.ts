/**
 * The training knobs on the command line, shared by `riesz train` and `riesz compare`: one flag per
 * setting of train/settings.ts that has one, plus `--config FILE.json` for every setting. Flags win
 * over the file. The result is the part of TrainOptions that both commands pass to `train`.
 */
import { readFileSync } from 'node:fs';
import { UsageError } from '../errors.js';
import type { TrainOptions } from '../train/loop.js';
import {
  checkSetting,
  kfacOptionsOf,
  OPTIMIZER_SETTINGS,
  type OptimizerSettings,
  parseConfig,
  type SettingSpec,
  TASK_SETTINGS,
  type TaskSettings,
} from '../train/settings.js';
import type { TaskOverrides } from '../train/tasks.js';
import { numberOption, type OptionSpec } from './args.js';

const ALL: [string, SettingSpec, 'optimizer' | 'task'][] = [
  ...Object.entries(OPTIMIZER_SETTINGS).map(
    ([k, s]) => [k, s, 'optimizer'] as [string, SettingSpec, 'optimizer'],
  ),
  ...Object.entries(TASK_SETTINGS).map(([k, s]) => [k, s, 'task'] as [string, SettingSpec, 'task']),
];

function placeholder(s: SettingSpec): string {
  if (s.type === 'choice') return s.choices!.join('|');
  if (s.type === 'boolean') return 'on|off';
  return s.type === 'integer' ? 'N' : 'X';
}

/** The flags of the settings (their help from the schema) and --config. */
export const trainingFlags: Record<string, OptionSpec> = {
  ...Object.fromEntries(
    ALL.filter(([, s]) => s.flag).map(([, s]) => [
      s.flag!,
      { type: 'string' as const, value: placeholder(s), help: s.help },
    ]),
  ),
  config: {
    type: 'string',
    value: 'FILE.json',
    help: 'settings as {"optimizer": {...}, "task": {...}} (docs/optimizers.md lists them); flags win',
  },
};

function flagValue(flag: string, s: SettingSpec, raw: string): string | number | boolean {
  if (s.type === 'boolean') {
    if (raw === 'on' || raw === 'true') return true;
    if (raw === 'off' || raw === 'false') return false;
    throw new UsageError(`--${flag} must be on or off, got '${raw}'`);
  }
  const value = s.type === 'choice' ? raw : raw.trim() === '' ? Number.NaN : Number(raw);
  return checkSetting('option', `--${flag}`, s, value);
}

export interface TrainingSettings {
  optimizer: OptimizerSettings;
  task: TaskSettings;
}

/** The settings from --config and the flags (flags win). */
export function readTrainingSettings(
  options: Record<string, string | boolean | undefined>,
): TrainingSettings {
  const file = options.config === undefined ? undefined : String(options.config);
  let config: TrainingSettings = { optimizer: {}, task: {} };
  if (file !== undefined) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (e) {
      throw new UsageError(`--config ${file}: cannot read it (${(e as NodeJS.ErrnoException).code ?? e})`);
    }
    config = parseConfig(text, file);
  }
  const optimizer: Record<string, unknown> = { ...config.optimizer };
  const task: Record<string, unknown> = { ...config.task };
  for (const [key, spec, section] of ALL) {
    if (!spec.flag || options[spec.flag] === undefined) continue;
    (section === 'optimizer' ? optimizer : task)[key] = flagValue(
      spec.flag,
      spec,
      String(options[spec.flag]),
    );
  }
  return { optimizer: optimizer as OptimizerSettings, task: task as TaskSettings };
}

/** The TrainOptions the settings make (the rest — optimizer, seed, out, … — the command adds). */
export function trainOptionsOf(s: TrainingSettings): Partial<TrainOptions> {
  const o = s.optimizer;
  const t = s.task;
  const kfac = kfacOptionsOf(o);
  const settings: OptimizerSettings = {};
  for (const k of ['momentum', 'weightDecay', 'b1', 'b2', 'klClip'] as const)
    if (o[k] !== undefined) settings[k] = o[k];
  return {
    lr: o.lr,
    batch: t.batch,
    steps: t.steps,
    epochs: t.epochs,
    maxWallS: t.maxSeconds,
    l2: t.l2,
    batchSchedule: t.batchSchedule === undefined ? undefined : { doublingSteps: t.batchSchedule },
    nonFinite: t.nonFinite as TrainOptions['nonFinite'],
    kfac: Object.keys(kfac).length > 0 ? kfac : undefined,
    settings: Object.keys(settings).length > 0 ? settings : undefined,
  };
}

/** `--target-loss X` (any number), or undefined: the loss whose first crossing is timed. */
export function targetLossOf(options: Record<string, string | boolean | undefined>): number | undefined {
  return options['target-loss'] === undefined
    ? undefined
    : numberOption(options['target-loss'], 'target-loss', 0);
}

/** The task overrides among the settings. */
export function taskOverridesOf(s: TrainingSettings): TaskOverrides {
  return s.task.init === undefined ? {} : { init: s.task.init as TaskOverrides['init'] };
}
