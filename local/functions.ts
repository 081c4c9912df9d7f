/**
 * Loading the Lambda entry files (`functions/<fn>.ts`, export `handler`) into this process.
 * The functions read their configuration from `process.env` when their module is evaluated, so
 * the caller sets the environment first. Each stack start imports fresh copies of the entry
 * modules (a query string makes a new module URL), so a second stack in the same process gets
 * handlers configured for it; modules under `shared/` are shared, as in one warm container.
 */
import { join } from "node:path";
import { pathToFileURL } from "node:url";

let generation = 0;

/** A new set of module instances for {@link loadHandler}: call once per stack start. */
export function nextGeneration(): number {
  generation += 1;
  return generation;
}

/**
 * Imports `functions/<fn>.ts` from `functionsDir` and returns its `handler` export.
 * @param instance from {@link nextGeneration}; the same value reuses loaded modules.
 * @throws Error when the file cannot be imported or has no `handler` function.
 */
export async function loadHandler<H extends (...args: never[]) => unknown>(
  functionsDir: string,
  fn: string,
  instance: number,
): Promise<H> {
  const url = `${pathToFileURL(join(functionsDir, `${fn}.ts`)).href}?instance=${instance}`;
  const module = (await import(url)) as { handler?: unknown };
  if (typeof module.handler !== "function") throw new Error(`functions/${fn}.ts exports no handler function`);
  return module.handler as H;
}
