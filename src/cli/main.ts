/**
 * The `riesz` command, as a function: `main(argv)` runs one command in-process and resolves to its
 * exit status (tests call it directly; bin.ts is the executable). Errors print one line (`riesz: error: …`) and exit non-zero; `--debug` adds
 * the stack trace. Usage errors exit 2, other failures 1.
 */
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { enableThreads } from '../backend/threads.js';
import { RieszError, UsageError } from '../errors.js';
import { runCompare } from './compare.js';
import { runDemo } from './demo.js';
import { runLab } from './lab.js';
import { runNorm } from './norm.js';
import { runTrain } from './train.js';

/** A command resolves to its exit status, or to nothing for 0. */
type Command = {
  run: (argv: string[], print: (s: string) => void) => unknown;
  help: string;
};

const COMMANDS: Record<string, Command> = {
  train: {
    run: runTrain,
    help: 'train on real data with an optimizer from a geometry (see riesz train --help)',
  },
  compare: { run: runCompare, help: 'train several optimizers on one task; curves, plots and a table' },
  norm: { run: runNorm, help: 'norms of a linear map between inner-product spaces (see riesz norm --help)' },
  demo: { run: runDemo, help: 'three ways to a Frobenius-type norm; average vs maximal response' },
  lab: { run: runLab, help: 'serve the riesz lab in a browser: geometry, optimizer race and spectra panels' },
};

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
    version: string;
  };
  return pkg.version;
}

function usage(): string {
  const w = Math.max(...Object.keys(COMMANDS).map((k) => k.length));
  const lines = Object.entries(COMMANDS).map(([k, c]) => `  ${k.padEnd(w)}  ${c.help}`);
  return `usage: riesz <command> [options]\n\ncommands:\n${lines.join('\n')}\n\nriesz <command> --help for a command's options; riesz --version for the version.`;
}

function threadCount(env: string | undefined): number | undefined {
  if (env === undefined || env === '') return undefined;
  const n = Number(env);
  if (!Number.isInteger(n) || n < 1)
    throw new UsageError(`RIESZ_THREADS must be a positive integer, got '${env}'`);
  return n;
}

export async function main(argv: string[]): Promise<number> {
  const print = (s: string) => process.stdout.write(`${s}\n`);
  const debug = argv.includes('--debug');
  try {
    const [cmd, ...rest] = argv;
    if (cmd === undefined || cmd === 'help' || cmd === '--help' || cmd === '-h') {
      print(usage());
      return 0;
    }
    if (cmd === '--version' || cmd === '-v') {
      print(version());
      return 0;
    }
    const command = COMMANDS[cmd];
    if (!command)
      throw new UsageError(`unknown command '${cmd}'; valid commands: ${Object.keys(COMMANDS).join(', ')}`);
    // Large products use every core (RIESZ_THREADS overrides; 1 keeps one thread).
    enableThreads(threadCount(process.env.RIESZ_THREADS));
    const code = await command.run(rest, print);
    return typeof code === 'number' ? code : 0;
  } catch (e) {
    const err = e as Error;
    const known = e instanceof RieszError;
    process.stderr.write(
      `riesz: error: ${known ? err.message : `internal error: ${err?.message ?? String(e)}`}\n`,
    );
    if (debug && err?.stack) process.stderr.write(`${err.stack}\n`);
    else if (!known) process.stderr.write('riesz: run with --debug for the stack trace\n');
    return e instanceof UsageError ? 2 : 1;
  }
}

// Run as a script (`node dist/cli/main.js …`, the executable's path before bin.js), not when imported.
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.exitCode = await main(process.argv.slice(2));
}
