/**
 * The command-line parser, on Node's own `util.parseArgs` (its tokens): `--name value`,
 * `--name=value`, boolean flags and positional operands. Unknown options fail with the list of valid
 * ones (never silently ignored); a value may start with '-' (`--seed -1`).
 */
import { parseArgs as nodeParseArgs } from 'node:util';
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

const NEGATIVE = 'riesz:negative-operand:';

export function parseArgs(argv: string[], spec: Record<string, OptionSpec>, command: string): Parsed {
  const valid = () =>
    Object.keys(spec)
      .map((k) => `--${k}`)
      .join(', ');
  // Node's parser calls a value that starts with '-' ambiguous (`--seed -1`); riesz takes it as the
  // value, so such pairs are joined into `--name=value` first.
  const args: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--') {
      args.push(...argv.slice(i));
      break;
    }
    const name = arg.startsWith('--') && !arg.includes('=') ? arg.slice(2) : null;
    const next = argv[i + 1];
    if (name && spec[name]?.type === 'string' && next?.startsWith('-') && next !== '--') {
      args.push(`${arg}=${next}`);
      i++;
    } else args.push(arg);
  }
  // A lone '-1' is a number operand, not an option.
  for (const a of args) {
    if (/^-[^-]/.test(a) && Number.isNaN(Number(a)))
      throw new UsageError(`unknown option '${a}' for '${command}'; valid options: ${valid()}`);
  }
  const negatives: string[] = [];
  let parsed: ReturnType<typeof nodeParseArgs>;
  try {
    parsed = nodeParseArgs({
      // A negative number operand would read as a short option: it goes through as a placeholder.
      args: args.map((a) => (/^-[^-]/.test(a) ? `${NEGATIVE}${negatives.push(a) - 1}` : a)),
      options: Object.fromEntries(Object.entries(spec).map(([k, o]) => [k, { type: o.type }])),
      strict: false,
      allowPositionals: true,
      tokens: true,
    });
  } catch (e) {
    throw new UsageError(`${command}: ${(e as Error).message}`);
  }
  const options: Parsed['options'] = {};
  const positionals: string[] = [];
  for (const t of parsed.tokens ?? []) {
    if (t.kind === 'positional')
      positionals.push(
        t.value.startsWith(NEGATIVE) ? negatives[Number(t.value.slice(NEGATIVE.length))] : t.value,
      );
    else if (t.kind === 'option-terminator') continue;
    else {
      const opt = spec[t.name];
      if (!opt)
        throw new UsageError(`unknown option '--${t.name}' for '${command}'; valid options: ${valid()}`);
      if (opt.type === 'boolean') {
        if (t.value !== undefined) throw new UsageError(`option '--${t.name}' takes no value`);
        options[t.name] = true;
      } else {
        if (t.value === undefined)
          throw new UsageError(`option '--${t.name}' needs a value (${opt.value ?? 'VALUE'})`);
        options[t.name] = t.value;
      }
    }
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
