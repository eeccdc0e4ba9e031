// Writes the registry's tables into docs/optimizers.md and the README between their markers (run after `npm run
// build`); test/docs-tables.test.ts checks that the docs hold what the registry says.
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { optimizerTable } = await import(join(root, 'dist/train/optimizers.js'));
const { taskTable } = await import(join(root, 'dist/train/tasks.js'));
const { settingsTable, OPTIMIZER_SETTINGS, TASK_SETTINGS } = await import(
  join(root, 'dist/train/settings.js')
);
const files = {
  'docs/optimizers.md': {
    optimizers: optimizerTable(),
    'optimizer-settings': settingsTable(OPTIMIZER_SETTINGS),
    'task-settings': settingsTable(TASK_SETTINGS),
  },
  'README.md': { optimizers: optimizerTable(), tasks: taskTable() },
};
for (const [name, tables] of Object.entries(files)) {
  const file = join(root, name);
  let text = readFileSync(file, 'utf8');
  for (const [marker, table] of Object.entries(tables)) {
    const re = new RegExp(`(<!-- ${marker}:begin -->\\n)[\\s\\S]*?(<!-- ${marker}:end -->)`);
    if (!re.test(text)) throw new Error(`${name} has no ${marker} markers`);
    text = text.replace(re, `$1${table}\n$2`);
  }
  writeFileSync(file, text);
}
