// Writes the registry's tables into docs/optimizers.md between their markers (run after `npm run
// build`); test/docs-tables.test.ts checks that the docs hold what the registry says.
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { optimizerTable } = await import(join(root, 'dist/train/optimizers.js'));
const { settingsTable, OPTIMIZER_SETTINGS, TASK_SETTINGS } = await import(
  join(root, 'dist/train/settings.js')
);
const file = join(root, 'docs/optimizers.md');
let text = readFileSync(file, 'utf8');
const tables = {
  optimizers: optimizerTable(),
  'optimizer-settings': settingsTable(OPTIMIZER_SETTINGS),
  'task-settings': settingsTable(TASK_SETTINGS),
};
for (const [name, table] of Object.entries(tables)) {
  const re = new RegExp(`(<!-- ${name}:begin -->\\n)[\\s\\S]*?(<!-- ${name}:end -->)`);
  if (!re.test(text)) throw new Error(`docs/optimizers.md has no ${name} markers`);
  text = text.replace(re, `$1${table}\n$2`);
}
writeFileSync(file, text);
