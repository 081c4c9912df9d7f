/** An undo stack: what a start did, undone in reverse order when it stops or fails half-way. */
import type { LocalLogger } from "./logger";

/** Steps to undo, and the one run that undoes them. */
export interface Teardown {
  /** Adds a step; the last added runs first. */
  push(step: () => Promise<void> | void): void;
  /**
   * Runs every step, last added first; a step that throws is logged (`local stack: stopping
   * failed`) and the others still run. Calling it again returns the first run's promise.
   */
  run(): Promise<void>;
}

/** A new, empty undo stack that logs failing steps to `logger`. */
export function createTeardown(logger: LocalLogger): Teardown {
  const steps: (() => Promise<void> | void)[] = [];
  let running: Promise<void> | undefined;
  return {
    push: (step) => {
      steps.push(step);
    },
    run() {
      running ??= (async () => {
        while (steps.length > 0) {
          try {
            await steps.pop()?.();
          } catch (error) {
            logger.error("local stack: stopping failed", { error });
          }
        }
      })();
      return running;
    },
  };
}
