/**
 * writeFileAtomic's durability order, observed through spies on node:fs: the temporary file is
 * fsynced before the rename, the folder after it; folders that cannot be fsynced are tolerated.
 */
import type * as realFs from 'node:fs';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeEach, describe, expect, it, vi } from 'vitest';

const log: string[] = [];
const failNext: { fsync?: string[] } = {};

vi.mock('node:fs', async (importOriginal) => {
  const fs = await importOriginal<typeof realFs>();
  const paths = new Map<number, string>();
  return {
    ...fs,
    openSync: (p: string, flags: string, mode?: number) => {
      const fd = fs.openSync(p, flags, mode);
      paths.set(fd, p);
      log.push(`open ${p.endsWith('.tmp') ? 'tmp' : 'dir'}`);
      return fd;
    },
    fsyncSync: (fd: number) => {
      const what = paths.get(fd)?.endsWith('.tmp') ? 'tmp' : 'dir';
      log.push(`fsync ${what}`);
      const code = failNext.fsync?.shift();
      if (code) throw Object.assign(new Error(`${code}: simulated`), { code });
      fs.fsyncSync(fd);
    },
    renameSync: (a: string, b: string) => {
      log.push('rename');
      fs.renameSync(a, b);
    },
  };
});

const { writeFileAtomic } = await import('./files.js');

beforeEach(() => {
  log.length = 0;
  failNext.fsync = [];
});

describe('writeFileAtomic', () => {
  it('fsyncs the temporary file before the rename and the folder after it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'riesz-atomic-'));
    writeFileAtomic(join(dir, 'a.txt'), 'hello');
    expect(log).toEqual(['open tmp', 'fsync tmp', 'rename', 'open dir', 'fsync dir']);
    expect(readFileSync(join(dir, 'a.txt'), 'utf8')).toBe('hello');
    expect(readdirSync(dir)).toEqual(['a.txt']);
  });
  it.each(['EISDIR', 'EINVAL', 'EPERM'])('ignores %s from fsync on the folder', (code) => {
    const dir = mkdtempSync(join(tmpdir(), 'riesz-atomic-'));
    failNext.fsync = ['', code];
    writeFileAtomic(join(dir, 'b.bin'), Uint8Array.of(1, 2, 3));
    expect(Array.from(readFileSync(join(dir, 'b.bin')))).toEqual([1, 2, 3]);
  });
  it('leaves the old file and no temporary file when flushing the data fails', () => {
    const dir = mkdtempSync(join(tmpdir(), 'riesz-atomic-'));
    const path = join(dir, 'c.txt');
    writeFileSync(path, 'old');
    failNext.fsync = ['EIO'];
    expect(() => writeFileAtomic(path, 'new')).toThrow(/EIO/);
    expect(log).not.toContain('rename');
    expect(readFileSync(path, 'utf8')).toBe('old');
    expect(readdirSync(dir)).toEqual(['c.txt']);
  });
  it('reports an fsync error on the folder that is not a platform limitation', () => {
    const dir = mkdtempSync(join(tmpdir(), 'riesz-atomic-'));
    failNext.fsync = ['', 'EIO'];
    expect(() => writeFileAtomic(join(dir, 'd.txt'), 'x')).toThrow(/EIO/);
  });
});
