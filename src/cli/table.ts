/** Plain-text tables and number formatting for human output. */

/** A number with `digits` significant digits, in exponent form when very large or small. */
export function fmt(x: number, digits = 10): string {
  if (!Number.isFinite(x)) return String(x);
  if (x === 0) return '0';
  const a = Math.abs(x);
  if (a >= 1e-4 && a < 1e9) return Number(x.toPrecision(digits)).toString();
  return x.toExponential(digits - 1);
}

/** Columns padded to their widest cell; numbers-looking cells right-aligned. */
export function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, j) => Math.max(h.length, ...rows.map((r) => r[j].length)));
  const numeric = header.map((_, j) => rows.every((r) => /^[-+0-9.eE×≤ ]+$|^[-+]?\d/.test(r[j])));
  const line = (cells: string[]) =>
    cells
      .map((c, j) => (numeric[j] ? c.padStart(widths[j]) : c.padEnd(widths[j])))
      .join('  ')
      .trimEnd();
  return [line(header), widths.map((w) => '─'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}
