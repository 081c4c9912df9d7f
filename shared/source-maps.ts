/**
 * Error stacks in our source's terms without paying for source maps at every cold start: the
 * functions run without `--enable-source-maps` (Node would read and parse the bundle's whole map,
 * about 650 KB, as the bundle loads), and a stack is mapped here only when an error is logged,
 * from the map esbuild writes next to the bundle (`index.mjs.map`), with Node's own `SourceMap`
 * (`node:module`). Measured in docs/performance.md ("Source maps").
 *
 * Node cannot do this by itself lazily: `process.setSourceMapsEnabled(true)` (and
 * `module.setSourceMapsSupport`) only apply to modules loaded after the call, and
 * `module.findSourceMap` only knows maps read at load (checked on Node 20 and 24).
 */
import { readFileSync } from "node:fs";
import { SourceMap } from "node:module";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/** Each generated file's map (`undefined`: none beside it), read once per process. */
const maps = new Map<string, SourceMap | undefined>();

/** A V8 stack frame with a position: `    at fn (file:///var/task/index.mjs:1:234)` or `    at /x.js:1:2`. */
const FRAME = /^(\s+at (?:.+ \()?)((?:file:\/\/)?\/[^():]+):(\d+):(\d+)(\)?)$/;

function mapBeside(file: string): SourceMap | undefined {
  if (maps.has(file)) return maps.get(file);
  let map: SourceMap | undefined;
  try {
    map = new SourceMap(JSON.parse(readFileSync(`${file}.map`, "utf8")));
  } catch {
    map = undefined;
  }
  maps.set(file, map);
  return map;
}

/**
 * `stack` (V8's `Error.stack` text) with each frame in a file that has a source map beside it
 * (`<file>.map`) rewritten to its original file (absolute, resolved from the map's directory as
 * Node does), line and column, 1-based; every other line as it was (frames in Node's internals,
 * in files without a map, or already mapped). The first call for a bundle reads and parses its
 * map (a few ms for a function's); later calls reuse it. Never throws.
 */
export function sourceMappedStack(stack: string): string {
  return stack
    .split("\n")
    .map((line) => {
      const frame = FRAME.exec(line);
      if (frame === null) return line;
      const [, head = "", location = "", generatedLine, generatedColumn, tail = ""] = frame;
      const file = location.startsWith("file://") ? fileURLToPath(location) : location;
      const origin = mapBeside(file)?.findOrigin(Number(generatedLine), Number(generatedColumn));
      if (origin === undefined || !("fileName" in origin)) return line;
      const source = resolve(dirname(file), origin.fileName);
      return `${head}${source}:${origin.lineNumber}:${origin.columnNumber}${tail}`;
    })
    .join("\n");
}

/**
 * A copy of `error` (same prototype, own properties and `cause` chain) whose `stack`, and each
 * cause's, is {@link sourceMappedStack}; `error` itself is left as it is.
 */
export function withSourceMappedStack(error: Error): Error {
  const descriptors = Object.getOwnPropertyDescriptors(error);
  if (typeof error.stack === "string") {
    descriptors.stack = {
      value: sourceMappedStack(error.stack),
      writable: true,
      configurable: true,
      enumerable: false,
    };
  }
  if (error.cause instanceof Error && descriptors.cause !== undefined) {
    descriptors.cause = { ...descriptors.cause, value: withSourceMappedStack(error.cause) };
  }
  return Object.create(Object.getPrototypeOf(error), descriptors) as Error;
}
