/** Summary statistics of latency samples (ms) and figure formatting for the bench report. */

/** Percentiles of a sample set, ms. */
export interface Summary {
  n: number;
  p50: number;
  p99: number;
  mean: number;
}

/**
 * The `p`-th percentile (0 to 100) of `samples` by the nearest-rank method.
 * @throws Error when `samples` is empty.
 */
export function percentile(samples: readonly number[], p: number): number {
  if (samples.length === 0) throw new Error("percentile of no samples");
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length)));
  return sorted[rank - 1] as number;
}

/** The median (p50) of `samples`, same unit as the samples. */
export const median = (samples: readonly number[]): number => percentile(samples, 50);

/** n, p50, p99 and mean of `samples` (ms). */
export function summarize(samples: readonly number[]): Summary {
  const mean = samples.reduce((a, b) => a + b, 0) / Math.max(1, samples.length);
  return { n: samples.length, p50: percentile(samples, 50), p99: percentile(samples, 99), mean };
}

/** A duration in ms with a precision that suits its size (`0.412`, `12.3`, `1234`). */
export function ms(value: number): string {
  if (value < 10) return value.toFixed(3);
  if (value < 100) return value.toFixed(1);
  return value.toFixed(0);
}

/** A ratio such as `1.23×`. */
export const ratio = (value: number, base: number): string => (base > 0 ? `${(value / base).toFixed(2)}×` : "n/a");

/** A byte count in KiB with one decimal (`123.4 KiB`). */
export const kib = (bytes: number): string => `${(bytes / 1024).toFixed(1)} KiB`;

/** A markdown table (header row, then rows), as printed by the bench and pasted in the docs. */
export function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const line = (cells: readonly string[]) => `| ${cells.join(" | ")} |`;
  return [line(header), line(header.map(() => "---")), ...rows.map(line)].join("\n");
}
