/**
 * shared/source-maps.ts: stacks of a minified bundle mapped to its sources from the map beside it
 * (esbuild's external map, as the functions are built), without `--enable-source-maps`.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { build } from "esbuild";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sourceMappedStack, withSourceMappedStack } from "../../shared/source-maps";

const dir = mkdtempSync(join(tmpdir(), "cruddur-source-maps-"));
const source = join(dir, "thrower.ts");
const outfile = join(dir, "out", "index.mjs");
/** A V8 frame line at the place where `code` starts in the minified output. */
let frameAt: (code: string) => string;

beforeAll(async () => {
  writeFileSync(
    source,
    [
      "export function fail(): Error {",
      '  return new Error("outer", { cause: inner() });',
      "}",
      "function inner(): Error {",
      '  return new Error("inner");',
      "}",
    ].join("\n"),
  );
  await build({
    entryPoints: [source],
    outfile,
    bundle: true,
    format: "esm",
    platform: "node",
    minify: true,
    sourcemap: true,
    sourcesContent: false,
    logLevel: "silent",
  });
  // Built, not imported: the test runner maps the stacks of what it imports itself.
  const lines = readFileSync(outfile, "utf8").split("\n");
  frameAt = (code) => {
    const line = lines.findIndex((l) => l.includes(code));
    const column = (lines[line] ?? "").indexOf(code);
    return `    at f (${pathToFileURL(outfile).href}:${line + 1}:${column + 1})`;
  };
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe("withSourceMappedStack", () => {
  it("maps the error's and its cause's frames to the source, keeping the rest of the error", () => {
    const cause = new Error("inner");
    cause.stack = `Error: inner\n${frameAt('Error("inner")')}`;
    const error = Object.assign(new Error("outer", { cause }), { code: "E_OUTER" });
    error.stack = `Error: outer\n${frameAt('Error("outer"')}\n    at process.processTicksAndRejections (node:internal/process/task_queues:95:5)`;
    const before = error.stack;
    const mapped = withSourceMappedStack(error) as Error & { code?: string; cause: Error };
    const frames = mapped.stack?.split("\n") ?? [];
    expect(frames[1]).toMatch(new RegExp(`^    at f \\(${source}:2:\\d+\\)$`));
    expect(frames[2]).toBe("    at process.processTicksAndRejections (node:internal/process/task_queues:95:5)");
    expect(mapped.cause.stack?.split("\n")[1]).toMatch(new RegExp(`^    at f \\(${source}:5:\\d+\\)$`));
    expect(mapped).toBeInstanceOf(Error);
    expect(mapped.message).toBe("outer");
    expect(mapped.code).toBe("E_OUTER");
    expect(Object.keys(mapped)).toEqual(Object.keys(error));
    // The error itself is left as it was.
    expect(error.stack).toBe(before);
    expect(error.cause).toBe(cause);
  });
});

describe("sourceMappedStack", () => {
  it("leaves frames without a map beside their file, and lines that are not frames, as they are", () => {
    const stack = [
      "Error: x",
      "    at Function.from (node:buffer:322:9)",
      `    at f (${join(dir, "no-map.js")}:1:10)`,
      "    at async Promise.all (index 0)",
    ].join("\n");
    expect(sourceMappedStack(stack)).toBe(stack);
  });
});
