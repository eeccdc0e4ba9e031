/** Every input kept under test/fixtures/fuzz/ is refused with a ParseError naming the file. */
import { readdirSync, readFileSync } from 'node:fs';
import { extname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ParseError } from '../../src/errors.js';
import { readMatrixFile } from '../../src/io/files.js';
import { parseSafetensors } from '../../src/io/safetensors.js';

const dir = join(import.meta.dirname, '../fixtures/fuzz');
const files = readdirSync(dir).filter((f) => f !== 'README.md');

describe('fuzz regressions', () => {
  it('keeps at least the crashes found so far', () => {
    expect(files.length).toBeGreaterThanOrEqual(6);
  });
  it.each(files)('%s is refused with a ParseError naming it', (name) => {
    const path = join(dir, name);
    const read = () =>
      extname(name) === '.safetensors'
        ? parseSafetensors(new Uint8Array(readFileSync(path)), path)
        : readMatrixFile(path);
    expect(read).toThrow(ParseError);
    expect(read).toThrow(new RegExp(`^${path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: `));
  });
});
