/** Median of a non-empty list of numbers (mean of the two middle values for an even count). */
export function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

/** `true`, `false`, or `null` when the metric has no target. */
export function meetsTarget(metric, value) {
  if (metric.target === undefined || !Number.isFinite(value)) return null;
  return metric.better === 'higher' ? value >= metric.target : value <= metric.target;
}

/** Formats a figure with a sensible number of digits for its size. */
export function formatNumber(value) {
  if (value === undefined || value === null || Number.isNaN(value)) return 'n/a';
  const abs = Math.abs(value);
  if (abs >= 1000) return Math.round(value).toLocaleString('en-US');
  if (abs >= 100) return value.toFixed(0);
  if (abs >= 10) return value.toFixed(1);
  return value.toFixed(2);
}

/** Renders rows (arrays of strings) as an aligned text table with a header rule. */
export function renderTable(header, rows) {
  const widths = header.map((cell, i) =>
    Math.max(cell.length, ...rows.map((row) => row[i].length)),
  );
  const line = (cells) =>
    cells
      .map((cell, i) => cell.padEnd(widths[i]))
      .join('  ')
      .trimEnd();
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}
