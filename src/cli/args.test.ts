import { expect, it } from 'vitest';
import { parseArgs } from './args.js';

const spec = { seed: { type: 'string' as const, help: '' }, json: { type: 'boolean' as const, help: '' } };
it('parses', () => {
  expect(parseArgs(['a', '--seed', '-1', '--json', '-3', '--', '--x'], spec, 'c')).toEqual({
    options: { seed: '-1', json: true },
    positionals: ['a', '-3', '--x'],
  });
  expect(parseArgs(['--seed=5'], spec, 'c').options.seed).toBe('5');
  expect(() => parseArgs(['--nope'], spec, 'c')).toThrow(
    /unknown option '--nope' for 'c'; valid options: --seed, --json/,
  );
  expect(() => parseArgs(['-x'], spec, 'c')).toThrow(/unknown option '-x'/);
  expect(() => parseArgs(['--seed'], spec, 'c')).toThrow(/needs a value/);
  expect(() => parseArgs(['--json=1'], spec, 'c')).toThrow(/takes no value/);
});
