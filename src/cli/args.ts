/**
 * A small, strict command-line parser: `--name value`, `--name=value`, boolean flags and positional
 * operands. Unknown options fail with the list of valid ones (never silently ignored).
 */
import { UsageError } from '../errors.js';

export interface OptionSpec {
  type: 'string' | 'boolean';
  /** One-line description for help text. */
  help: string;
  /** Placeholder for the value in help text. */
  value?: string;
}

export interface Parsed {
  options: Record<string, string | boolean | undefined>;
  positionals: string[];
}

export function parseArgs(argv: string[], spec: Record<string, OptionSpec>, command: string): Parsed {
  const options: Parsed['options'] = {};
  const positionals: string[] = [];
  const valid = () =>
    Object.keys(spec)
      .map((k) => `--${k}`)
      .join(', ');
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--') {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (!arg.startsWith('--') || arg === '-') {
      if (arg.startsWith('-') && arg.length > 1 && Number.isNaN(Number(arg))) {
        throw new UsageError(`unknown option '${arg}' for '${command}'; valid options: ${valid()}`);
      }
      positionals.push(arg);
      continue;
    }
    const eq = arg.indexOf('=');
    const name = arg.slice(2, eq < 0 ? undefined : eq);
    const opt = spec[name];
    if (!opt) throw new UsageError(`unknown option '--${name}' for '${command}'; valid options: ${valid()}`);
    if (opt.type === 'boolean') {
      if (eq >= 0) throw new UsageError(`option '--${name}' takes no value`);
      options[name] = true;
      continue;
    }
    const value = eq >= 0 ? arg.slice(eq + 1) : argv[++i];
    if (value === undefined)
      throw new UsageError(`option '--${name}' needs a value (${opt.value ?? 'VALUE'})`);
    options[name] = value;
  }
  return { options, positionals };
}

/** Help lines for an option table. */
export function describeOptions(spec: Record<string, OptionSpec>): string {
  const rows = Object.entries(spec).map(([k, o]) => [
    `--${k}${o.type === 'string' ? ` ${o.value ?? 'VALUE'}` : ''}`,
    o.help,
  ]);
  const w = Math.max(...rows.map((r) => r[0].length));
  return rows.map(([a, b]) => `  ${a.padEnd(w)}  ${b}`).join('\n');
}

/** A finite number from an option, or a UsageError naming the option. */
export function numberOption(value: string | boolean | undefined, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  const v = Number(value);
  if (typeof value !== 'string' || value.trim() === '' || !Number.isFinite(v)) {
    throw new UsageError(`option '--${name}' needs a number, got '${value}'`);
  }
  return v;
}
