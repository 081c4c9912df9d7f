/** Bounded concurrency for the operator commands' writes, on p-limit. */
import pLimit from "p-limit";

/** One unit of work (a write, a group's rename, a user's import). */
export type Task = () => Promise<void>;

/**
 * Runs `tasks`, at most `concurrency` at once. After the first failure the queued tasks never
 * start; it waits until every started one has settled, then rethrows that first failure, so
 * nothing is still writing when the command reports it.
 */
export async function runLimited(concurrency: number, tasks: readonly Task[]): Promise<void> {
  // rejectOnClear: the tasks cleared after a failure settle (as AbortErrors) instead of hanging.
  const limit = pLimit({ concurrency, rejectOnClear: true });
  let failure: { error: unknown } | undefined;
  await Promise.all(
    tasks.map((task) =>
      limit(task).catch((error: unknown) => {
        failure ??= { error };
        limit.clearQueue();
      }),
    ),
  );
  if (failure !== undefined) throw failure.error;
}

/** Runs `task` over `items`, at most `concurrency` at once (see {@link runLimited}). */
export async function eachLimited<T>(
  items: readonly T[],
  concurrency: number,
  task: (item: T) => Promise<void>,
): Promise<void> {
  await runLimited(
    concurrency,
    items.map((item) => () => task(item)),
  );
}
