/**
 * Every function entry builds into the bundle Lambda runs and exports its handler: each
 * `functions/<fn>.ts` is bundled with the esbuild options the stack gives NodejsFunction
 * (`infra/bundling.ts`), then imported by a plain Node.js process, as the Lambda runtime imports
 * `index.mjs`. The modules read their configuration at load, so the environment is set first.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { build } from "esbuild";
import { afterAll, describe, expect, it } from "vitest";
import { entryPath, esbuildOptions, HANDLER_EXPORT } from "../../infra/bundling";
import { FUNCTION_ENV } from "../../infra/constructs/messaging-function";
import { FUNCTION_NAMES } from "../../shared/routes";

const outRoot = mkdtempSync(join(tmpdir(), "cruddur-bundles-"));

afterAll(() => {
  rmSync(outRoot, { recursive: true, force: true });
});

/** Bundles one entry as NodejsFunction does ({@link esbuildOptions}); returns index.mjs. */
async function bundle(fn: string): Promise<string> {
  const outfile = join(outRoot, fn, "index.mjs");
  await build({ ...esbuildOptions(), entryPoints: [entryPath(fn)], outfile });
  return outfile;
}

describe("function bundles", () => {
  it.each(FUNCTION_NAMES)("%s builds and exports its handler", async (fn) => {
    const file = await bundle(fn);
    const script = `const m = await import(${JSON.stringify(pathToFileURL(file).href)}); process.stdout.write(typeof m.${HANDLER_EXPORT});`;
    const out = execFileSync(process.execPath, ["--input-type=module", "-e", script], {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "pipe"],
      env: {
        PATH: process.env.PATH,
        AWS_REGION: "eu-west-1",
        [FUNCTION_ENV.tableName]: "cruddur-messages",
        [FUNCTION_ENV.userPoolId]: "eu-west-1_AbC123",
        [FUNCTION_ENV.eventsHttpUrl]: "https://example.appsync-api.eu-west-1.amazonaws.com",
        [FUNCTION_ENV.serviceName]: "cruddur-messages",
        [FUNCTION_ENV.logLevel]: "WARN",
        [FUNCTION_ENV.nodeOptions]: "--enable-source-maps",
      },
    });
    expect(out).toBe("function");
  });
});
