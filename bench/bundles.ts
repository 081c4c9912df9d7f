/**
 * The function bundles as deployed: each entry built with the esbuild settings the CDK stack gives
 * NodejsFunction (`infra/bundling.ts`), with a metafile to see what takes the room.
 */
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { gzipSync } from "node:zlib";
import { type BuildOptions, build, type Metafile } from "esbuild";
import { entryPath, esbuildOptions } from "../infra/bundling";
import { FUNCTION_NAMES } from "../shared/routes";

/** One built bundle. */
export interface BundleFigures {
  /** Function name (entry `functions/<fn>.ts`), or the name given to {@link buildBundle}. */
  name: string;
  /** Path of the built `index.mjs`. */
  file: string;
  /** Minified size, bytes. */
  bytes: number;
  /** gzip size (level 9), bytes: about what the deployment zip holds. */
  gzipBytes: number;
  /** Bytes in the output per package (or `project` for this repository's code), largest first. */
  packages: { name: string; bytes: number }[];
}

/** The package an input path of the metafile belongs to (`@aws-sdk/client-dynamodb`, `project`). */
export function packageOf(inputPath: string): string {
  const match = /node_modules\/((?:@[^/]+\/)?[^/]+)\/(?!.*node_modules\/)/.exec(inputPath);
  return match?.[1] ?? "project";
}

function packageBytes(metafile: Metafile, outfile: string): { name: string; bytes: number }[] {
  const output = Object.entries(metafile.outputs).find(([path]) => resolve(path) === resolve(outfile))?.[1];
  const totals = new Map<string, number>();
  for (const [input, { bytesInOutput }] of Object.entries(output?.inputs ?? {})) {
    const name = packageOf(input);
    totals.set(name, (totals.get(name) ?? 0) + bytesInOutput);
  }
  return [...totals].map(([name, bytes]) => ({ name, bytes })).sort((a, b) => b.bytes - a.bytes);
}

/**
 * Builds `entry` into `<outDir>/<name>/index.mjs` with the deployed settings, and `overrides`
 * over them (the cold-start baseline drops the deployed `alias`).
 * @returns its sizes (bytes) and what takes the room.
 */
export async function buildBundle(
  name: string,
  entry: string,
  outDir: string,
  overrides: Partial<BuildOptions> = {},
): Promise<BundleFigures> {
  const file = join(outDir, name, "index.mjs");
  const result = await build({
    ...esbuildOptions(),
    ...overrides,
    entryPoints: [entry],
    outfile: file,
    metafile: true,
  });
  const code = readFileSync(file);
  return {
    name,
    file,
    bytes: code.length,
    gzipBytes: gzipSync(code, { level: 9 }).length,
    packages: packageBytes(result.metafile, file),
  };
}

/** Builds every function of {@link FUNCTION_NAMES} into `outDir`. */
export async function buildFunctionBundles(outDir: string): Promise<BundleFigures[]> {
  const bundles: BundleFigures[] = [];
  for (const fn of FUNCTION_NAMES) bundles.push(await buildBundle(fn, entryPath(fn), outDir));
  return bundles;
}
