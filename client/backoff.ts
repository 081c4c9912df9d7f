/** Jittered exponential backoff, shared by the HTTP retries and the real-time reconnects. */

export interface BackoffOptions {
  /** Ceiling of the first delay, ms. */
  baseMs: number;
  /** Largest ceiling, ms. */
  maxMs: number;
  /** A number in [0, 1) (default `Math.random`). */
  random?: () => number;
}

/**
 * The delay before retry number `attempt` (0 for the first), ms: "full jitter" (AWS Architecture
 * Blog, "Exponential Backoff And Jitter"): uniform in [0, min(maxMs, baseMs * 2^attempt)), so
 * that many clients cut off together do not come back together.
 */
export function backoffDelay(attempt: number, options: BackoffOptions): number {
  const ceiling = Math.min(options.maxMs, options.baseMs * 2 ** Math.min(attempt, 30));
  return Math.floor((options.random ?? Math.random)() * ceiling);
}

/** Resolves after `ms` (at once for 0 or less); rejects with the signal's reason when aborted. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(
      () => {
        signal?.removeEventListener("abort", onAbort);
        resolve();
      },
      Math.max(0, ms),
    );
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
