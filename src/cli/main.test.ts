/** main(argv) runs in-process and resolves to the exit status. */
import { expect, it } from 'vitest';
import { main } from './main.js';

it('main(argv) in-process: the version, the command list, a usage error', async () => {
  expect(await main(['--version'])).toBe(0);
  expect(await main([])).toBe(0);
  expect(await main(['frobnicate'])).toBe(2);
  expect(await main(['train', '--no-such-flag'])).toBe(2);
});
