/**
 * Every function entry builds into the bundle Lambda runs and exports its handler: each
 * `functions/<fn>.ts` is bundled with the esbuild options the stack gives NodejsFunction
 * (`infra/bundling.ts`), then imported by a plain Node.js process, as the Lambda runtime imports
 * `index.mjs`. The modules read their configuration at load, so the environment is set first
 * (as the stack sets it: no NODE_OPTIONS, so no `--enable-source-maps`).
 */
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { build } from "esbuild";
import { afterAll, describe, expect, it } from "vitest";
import { BUNDLE_BUDGETS_KIB } from "../../infra/bundle-budgets";
import { entryPath, esbuildOptions, HANDLER_EXPORT } from "../../infra/bundling";
import { FUNCTION_ENV } from "../../infra/constructs/messaging-function";
import { FUNCTION_NAMES } from "../../shared/routes";

const outRoot = mkdtempSync(join(tmpdir(), "cruddur-bundles-"));

afterAll(() => {
  rmSync(outRoot, { recursive: true, force: true });
});

/** Bundles one entry as NodejsFunction does ({@link esbuildOptions}); returns index.mjs and the inputs in it. */
/** The environment of a bundle's process: as deployed, with made-up resource names. */
const BUNDLE_ENV = {
  PATH: process.env.PATH,
  AWS_REGION: "eu-west-1",
  [FUNCTION_ENV.tableName]: "cruddur-messages",
  [FUNCTION_ENV.userPoolId]: "eu-west-1_AbC123",
  [FUNCTION_ENV.eventsHttpUrl]: "https://example.appsync-api.eu-west-1.amazonaws.com",
  [FUNCTION_ENV.serviceName]: "cruddur-messages",
  [FUNCTION_ENV.logLevel]: "WARN",
};

async function bundle(fn: string): Promise<{ file: string; inputs: string[] }> {
  const outfile = join(outRoot, fn, "index.mjs");
  const result = await build({ ...esbuildOptions(), entryPoints: [entryPath(fn)], outfile, metafile: true });
  const inputs = Object.values(result.metafile.outputs).flatMap((o) =>
    o.entryPoint === undefined ? [] : Object.keys(o.inputs),
  );
  return { file: outfile, inputs };
}

describe("function bundles", () => {
  it.each(FUNCTION_NAMES)(
    "%s builds within its size budget, without the default credential chain or a second copy of a package, and exports its handler",
    async (fn) => {
      const { file, inputs } = await bundle(fn);
      const budget = BUNDLE_BUDGETS_KIB[fn];
      expect(budget, `no budget for ${fn} in infra/bundle-budgets.ts`).toBeDefined();
      expect(statSync(file).size / 1024, `${fn} (KiB minified) against infra/bundle-budgets.ts`).toBeLessThanOrEqual(
        budget as number,
      );
      // The alias of infra/bundling.ts: the environment provider in place of the default chain and
      // the STS/SSO clients it brings (infra/env-credentials.ts).
      expect(
        inputs.filter((i) => /credential-provider-(node|ini|sso|process|web-identity)|nested-clients/.test(i)),
      ).toEqual([]);
      expect(inputs.some((i) => i.includes("credential-provider-env"))).toBe(true);
      // One copy of each package: a second, nested copy (another version) is bundled in full.
      const nested = inputs.filter((i) => /node_modules\/.*node_modules\//.test(i));
      expect([...new Set(nested.map((i) => i.replace(/\/(dist-[^/]+|lib|build)\/.*$/, "")))]).toEqual([]);
      const script = `const m = await import(${JSON.stringify(pathToFileURL(file).href)}); process.stdout.write(typeof m.${HANDLER_EXPORT});`;
      const out = execFileSync(process.execPath, ["--input-type=module", "-e", script], {
        encoding: "utf8",
        stdio: ["ignore", "pipe", "pipe"],
        env: BUNDLE_ENV,
      });
      expect(out).toBe("function");
    },
  );
});

describe("an error logged by a function bundle", () => {
  it("names our source file and line (the map beside the bundle, read when the error is logged)", async () => {
    const { file } = await bundle("create-message");
    // A base64 body that is not a string: Buffer.from throws in bodyText (shared/http.ts), an
    // unexpected error that httpHandler logs ("unhandled error") and answers with a 500.
    const event = {
      routeKey: "POST /api/messages",
      rawPath: "/api/messages",
      headers: {},
      body: 42,
      isBase64Encoded: true,
      requestContext: {
        requestId: "req-1",
        authorizer: { jwt: { claims: { sub: "sub-1", username: "alice", token_use: "access" } } },
      },
    };
    const script = `const m = await import(${JSON.stringify(pathToFileURL(file).href)});
const answer = await m.${HANDLER_EXPORT}(${JSON.stringify(event)}, { functionName: "create-message", awsRequestId: "r1" });
process.stdout.write(\`status \${answer.statusCode}\\n\`);`;
    const run = spawnSync(process.execPath, ["--input-type=module", "-e", script], {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "pipe"],
      env: BUNDLE_ENV,
    });
    const out = `${run.stdout}${run.stderr}`;
    expect(run.stdout, out).toContain("status 500");
    // Powertools writes an ERROR line with console.error.
    const line = out.split("\n").find((l) => l.includes('"unhandled error"'));
    expect(line, out).toBeDefined();
    const logged = JSON.parse(line as string) as { level: string; error: { name: string; stack: string } };
    expect(logged.level).toBe("ERROR");
    expect(logged.error.name).toBe("TypeError");
    const frames = logged.error.stack.split("\n").slice(1);
    // The frames in our code name the TypeScript source, not index.mjs.
    expect(
      frames.some((f) => /\bat bodyText \(\/.*\/shared\/http\.ts:\d+:\d+\)$/.test(f)),
      logged.error.stack,
    ).toBe(true);
    expect(
      frames.some((f) => /\/functions\/create-message\.ts:\d+:\d+\)?$/.test(f)),
      logged.error.stack,
    ).toBe(true);
    expect(frames.filter((f) => f.includes("index.mjs"))).toEqual([]);
  });
});
