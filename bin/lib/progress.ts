/**
 * Progress on stderr for the long commands (scan, users refresh, waiting for a table).
 *
 * No dependency: a bar that redraws one line of a terminal is about sixty lines, and this one
 * also knows how to step aside for the command's own output and how to degrade to plain lines
 * when stderr is a file (with `--progress`). Libraries such as cli-progress would add a package
 * for the same bar and still need both of those.
 *
 * Shown when stderr is a TTY, or when forced (`--progress`); otherwise every call is a no-op.
 */

/** The part of a stream that progress writes to (process.stderr, or a test double). */
export interface ProgressStream {
  write(chunk: string): unknown;
  isTTY?: boolean | undefined;
  columns?: number | undefined;
}

export interface ProgressOptions {
  stream: ProgressStream;
  /** Draw even when the stream is not a TTY (then as plain lines). */
  force: boolean;
  /** Epoch ms; injectable for tests. */
  now?: () => number;
}

/** Width of the bar, characters. */
const BAR_WIDTH = 24;
/** Least time between two redraws on a terminal, ms. */
const TTY_INTERVAL_MS = 80;
/** Least time between two lines when not a terminal, ms. */
const LINE_INTERVAL_MS = 1000;

/** One task's progress: `label`, a count, and, when known, a total (possibly approximate). */
export class Progress {
  private label = "";
  private count = 0;
  private total: number | undefined;
  private approximate = false;
  private unit = "";
  private drawn = false;
  private lastDraw = 0;
  /** The last plain line written (not a terminal): the same line is not written twice. */
  private lastLine = "";
  private readonly enabled: boolean;
  private readonly tty: boolean;
  private readonly now: () => number;

  constructor(private readonly options: ProgressOptions) {
    this.tty = options.stream.isTTY === true;
    this.enabled = this.tty || options.force;
    this.now = options.now ?? Date.now;
  }

  /** True when anything is shown. */
  get active(): boolean {
    return this.enabled;
  }

  /**
   * Starts a task (ending the previous one's line).
   * @param total how many units there will be, when known; `approximate` shows it as `~N`.
   * @param unit what is counted, e.g. `items`.
   */
  start(label: string, options: { total?: number | undefined; approximate?: boolean; unit?: string } = {}): void {
    if (this.drawn) this.finishLine();
    this.label = label;
    this.count = 0;
    this.total = options.total;
    this.approximate = options.approximate ?? false;
    this.unit = options.unit ?? "";
    this.lastDraw = 0;
    this.draw(true);
  }

  /** Adds `n` units done and redraws (throttled). */
  tick(n = 1): void {
    this.count += n;
    this.draw(false);
  }

  /** Ends the task, leaving its last state on the screen. */
  done(): void {
    if (!this.enabled || this.label === "") return;
    this.draw(true);
    this.finishLine();
    this.label = "";
  }

  /**
   * Runs `write` (which prints the command's own output) with the progress line out of the way:
   * on a terminal the line is cleared first and redrawn after, so output and bar do not mix.
   */
  around(write: () => void): void {
    if (!this.tty || !this.enabled || !this.drawn) {
      write();
      return;
    }
    this.options.stream.write("\r\x1b[K");
    this.drawn = false;
    write();
    // Redrawn at once only if a redraw is due anyway; else by the next tick.
    this.draw(false);
  }

  /** The text of the progress line, e.g. `scanning [#####-----] 50% 500/1000 items`. */
  render(): string {
    const unit = this.unit === "" ? "" : ` ${this.unit}`;
    if (this.total === undefined || this.total <= 0) return `${this.label} ${this.count}${unit}`;
    const total = Math.max(this.total, this.count);
    const ratio = Math.min(1, this.count / total);
    const filled = Math.round(ratio * BAR_WIDTH);
    const bar = `[${"#".repeat(filled)}${"-".repeat(BAR_WIDTH - filled)}]`;
    const percent = `${Math.floor(ratio * 100)}%`.padStart(4);
    return `${this.label} ${bar} ${percent} ${this.count}/${this.approximate ? "~" : ""}${total}${unit}`;
  }

  private draw(force: boolean): void {
    if (!this.enabled || this.label === "") return;
    const now = this.now();
    if (!force && now - this.lastDraw < (this.tty ? TTY_INTERVAL_MS : LINE_INTERVAL_MS)) return;
    this.lastDraw = now;
    if (this.tty) {
      const width = this.options.stream.columns || 80;
      this.options.stream.write(`\r${this.render().slice(0, Math.max(10, width - 1))}\x1b[K`);
      this.drawn = true;
    } else {
      const text = this.render();
      if (text !== this.lastLine) this.options.stream.write(`${text}\n`);
      this.lastLine = text;
    }
  }

  private finishLine(): void {
    if (this.tty && this.drawn) this.options.stream.write("\n");
    this.drawn = false;
  }
}
