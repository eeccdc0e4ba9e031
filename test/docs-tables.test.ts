/** The docs' tables of optimizers and settings are the registry's own (scripts/docs-tables.mjs). */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { optimizerTable } from '../src/train/optimizers.js';
import { OPTIMIZER_SETTINGS, settingsTable, TASK_SETTINGS } from '../src/train/settings.js';

const docs = readFileSync(join(import.meta.dirname, '../docs/optimizers.md'), 'utf8');

it.each([
  ['optimizers', optimizerTable()],
  ['optimizer-settings', settingsTable(OPTIMIZER_SETTINGS)],
  ['task-settings', settingsTable(TASK_SETTINGS)],
])(
  'docs/optimizers.md holds the %s table of the registry (regenerate: node scripts/docs-tables.mjs)',
  (name, table) => {
    const m = docs.match(new RegExp(`<!-- ${name}:begin -->\\n([\\s\\S]*?)\\n<!-- ${name}:end -->`));
    expect(m, `markers of ${name}`).not.toBeNull();
    expect(m![1]).toBe(table);
  },
);
