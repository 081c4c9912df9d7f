/** Waiting for a started service to answer. */
import { setTimeout as sleep } from "node:timers/promises";

export interface WaitOptions {
  /** Give up after this long, ms (default 30000). */
  timeoutMs?: number;
  /** Pause between two probes, ms (default 100). */
  intervalMs?: number;
  /** Checked before each probe: a string is a reason to give up at once (e.g. the process exited). */
  giveUpIf?: () => string | undefined;
}

/**
 * Calls `probe` until it resolves.
 * @returns what the first successful probe returned.
 * @throws Error naming `what` when `giveUpIf` answers a reason or the timeout passes (with the
 *   last probe error).
 */
export async function waitFor<T>(what: string, probe: () => Promise<T>, options: WaitOptions = {}): Promise<T> {
  const { timeoutMs = 30_000, intervalMs = 100, giveUpIf } = options;
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    const reason = giveUpIf?.();
    if (reason !== undefined) throw new Error(`${what}: ${reason}`);
    try {
      return await probe();
    } catch (error) {
      lastError = error;
    }
    if (Date.now() >= deadline) {
      const detail = lastError instanceof Error ? lastError.message : String(lastError);
      throw new Error(`${what}: not ready after ${timeoutMs} ms (${detail})`);
    }
    await sleep(intervalMs);
  }
}
