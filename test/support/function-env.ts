/**
 * Running a function module in a test worker: its environment set the way the local stack sets
 * it (`localFunctionEnv` of local/state.ts), undone by `vi.unstubAllEnvs()` (vitest's
 * `unstubEnvs` setting).
 */
import { vi } from "vitest";
import { type LocalFunctionEnvOptions, localFunctionEnv } from "../../local/state";
import type { Config } from "../../shared/config";

/** Stubs each variable of the function environment for `config` in `process.env`. */
export function stubFunctionEnv(config: Partial<Config>, options: LocalFunctionEnvOptions = {}): void {
  for (const [name, value] of Object.entries(localFunctionEnv(config, options))) vi.stubEnv(name, value);
}
