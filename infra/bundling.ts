/**
 * How every Lambda entry (`functions/<fn>.ts`) is built: one place for the runtime and the
 * esbuild settings, read by the `MessagingFunction` construct (through `NodejsFunction`) and by
 * the bundle test, which builds each entry the same way and imports it.
 */
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { Runtime } from "aws-cdk-lib/aws-lambda";
import { type BundlingOptions, OutputFormat } from "aws-cdk-lib/aws-lambda-nodejs";
import type { BuildOptions } from "esbuild";

/** The repository root (holds package.json, package-lock.json and `functions/`). */
export const PROJECT_ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");

/** The lock file NodejsFunction reads to find the project root and hash dependencies. */
export const DEPS_LOCK_FILE = join(PROJECT_ROOT, "package-lock.json");

/** Runtime of every function: the newest Node.js that aws-cdk-lib knows (AwsSolutions-L1). */
export const FUNCTION_RUNTIME = Runtime.NODEJS_24_X;

/** Name of the exported handler in every entry file. */
export const HANDLER_EXPORT = "handler";

/** Path of the entry file of function `fn`. */
export function entryPath(fn: string): string {
  return join(PROJECT_ROOT, "functions", `${fn}.ts`);
}

/**
 * Gives the ESM bundle a `require` so that CommonJS dependencies bundled into it can still load
 * Node built-ins (esbuild leaves their `require("…")` calls as they are).
 */
export const ESM_REQUIRE_BANNER =
  "import { createRequire } from 'module'; const require = createRequire(import.meta.url);";

/** Prefer the ES module build of dependencies that ship both. */
export const MAIN_FIELDS = ["module", "main"];

/**
 * Modules every bundle takes from elsewhere (esbuild `alias`): the SDK's default credential chain
 * becomes its environment provider (infra/env-credentials.ts says why). Measured in
 * docs/performance.md ("Bundles and cold start").
 */
export const SDK_ALIASES: Readonly<Record<string, string>> = {
  "@aws-sdk/credential-provider-node": join(PROJECT_ROOT, "infra", "env-credentials.ts"),
};

/** esbuild target for a Lambda runtime: `nodejs24.x` -> `node24`. */
export function esbuildTarget(runtime: Runtime): string {
  const major = /^nodejs(\d+)\.x$/.exec(runtime.name)?.[1];
  if (major === undefined) throw new Error(`not a Node.js runtime: ${runtime.name}`);
  return `node${major}`;
}

/**
 * The NodejsFunction bundling options: local esbuild (never Docker), one minified ESM file with
 * its source map beside it (`index.mjs.map`, without the sources' text), everything bundled (the
 * AWS SDK too, so the versions in package-lock.json are the versions that run) with
 * {@link SDK_ALIASES}, class and function names kept for readable error names in the logs. The
 * map stays out of the cold start: the functions run without `--enable-source-maps`, and the
 * logger reads the map only when it logs an error (shared/source-maps.ts); measured in
 * docs/performance.md ("Source maps").
 */
export function functionBundling(): BundlingOptions {
  return {
    forceDockerBundling: false,
    format: OutputFormat.ESM,
    target: esbuildTarget(FUNCTION_RUNTIME),
    mainFields: MAIN_FIELDS,
    banner: ESM_REQUIRE_BANNER,
    minify: true,
    keepNames: true,
    sourceMap: true,
    sourcesContent: false,
    externalModules: [],
    esbuildArgs: Object.fromEntries(Object.entries(SDK_ALIASES).map(([from, to]) => [`--alias:${from}`, to])),
  };
}

/**
 * The esbuild options of {@link functionBundling}, as NodejsFunction hands them to esbuild: the
 * bundle test and the benchmarks build each entry with these to get what Lambda runs.
 */
export function esbuildOptions(): BuildOptions {
  const options = functionBundling();
  return {
    bundle: true,
    platform: "node",
    format: options.format === OutputFormat.ESM ? "esm" : "cjs",
    ...(options.target === undefined ? {} : { target: options.target }),
    ...(options.mainFields === undefined ? {} : { mainFields: options.mainFields }),
    ...(options.banner === undefined ? {} : { banner: { js: options.banner } }),
    minify: options.minify ?? false,
    keepNames: options.keepNames ?? false,
    sourcemap: options.sourceMap ?? false,
    sourcesContent: options.sourcesContent ?? true,
    external: options.externalModules ?? [],
    alias: Object.fromEntries(
      Object.entries(options.esbuildArgs ?? {}).flatMap(([arg, to]) =>
        arg.startsWith("--alias:") && typeof to === "string" ? [[arg.slice("--alias:".length), to]] : [],
      ),
    ),
    logLevel: "silent",
  };
}
