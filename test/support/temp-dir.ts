/** Temporary directories of the tests, under the OS temp dir. */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, beforeEach } from "vitest";

/** A fresh directory `<os tmp>/<prefix><random>`. */
export const tempDir = (prefix: string): Promise<string> => mkdtemp(join(tmpdir(), prefix));

/**
 * A temporary directory for the tests of the calling `describe`: created before all of them (or
 * before each, with `scope: "each"`) and removed after.
 * @returns a function that answers the current directory (call it inside a test or hook).
 */
export function useTempDir(prefix: string, scope: "all" | "each" = "all"): () => string {
  let dir: string | undefined;
  const [before, after] = scope === "all" ? [beforeAll, afterAll] : [beforeEach, afterEach];
  before(async () => {
    dir = await tempDir(prefix);
  });
  after(async () => {
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
    dir = undefined;
  });
  return () => {
    if (dir === undefined) throw new Error("useTempDir: the directory exists only inside a test or hook");
    return dir;
  };
}
