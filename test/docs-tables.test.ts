/** The docs' tables of optimizers and settings are the registry's own (scripts/docs-tables.mjs). */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { optimizerTable } from '../src/train/optimizers.js';
import { OPTIMIZER_SETTINGS, settingsTable, TASK_SETTINGS } from '../src/train/settings.js';
import { taskTable } from '../src/train/tasks.js';

const read = (f: string) => readFileSync(join(import.meta.dirname, '..', f), 'utf8');

it.each([
  ['docs/optimizers.md', 'optimizers', optimizerTable()],
  ['docs/optimizers.md', 'optimizer-settings', settingsTable(OPTIMIZER_SETTINGS)],
  ['docs/optimizers.md', 'task-settings', settingsTable(TASK_SETTINGS)],
  ['README.md', 'optimizers', optimizerTable()],
  ['README.md', 'tasks', taskTable()],
])(
  '%s holds the %s table of the registry (regenerate: node scripts/docs-tables.mjs)',
  (file, name, table) => {
    const m = read(file).match(new RegExp(`<!-- ${name}:begin -->\\n([\\s\\S]*?)\\n<!-- ${name}:end -->`));
    expect(m, `markers of ${name} in ${file}`).not.toBeNull();
    expect(m![1]).toBe(table);
  },
);
