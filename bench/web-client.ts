/**
 * `npm run bench:web [-- --runs <n>]`: figures of the web client and the typed client, printed as
 * markdown (docs/performance.md, "Web client"). Reports; never fails on a figure.
 *
 * - the typed client's bundle: `client/index.ts` bundled and minified by esbuild as an ES module
 *   (everything: HTTP client, sign-in with amazon-cognito-identity-js's SRP helper, real-time),
 *   bytes raw and gzip (level 9);
 * - the web client's transfer size: every file the page loads (`/`, `/app.js`, `/styles.css`,
 *   `/config.json`) fetched from a local stack with `Accept-Encoding: gzip`, bytes on the wire
 *   (the bodies' Content-Length, headers not counted);
 * - time to interactive on the local stack, in Debian's chromium (playwright-core), a fresh
 *   browser context per run (empty cache): from navigation start to the sign-in form accepting
 *   input (signed out), and to the conversation list shown with the real-time connection live
 *   (signed in, a session in localStorage); median and worst of the runs, ms
 *   (`performance.now()` in the page, whose origin is the navigation's start).
 */
import "../local/sdk-warning";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { gzipSync } from "node:zlib";
import { build } from "esbuild";
import { signInWithPassword } from "../client/auth";
import { launchChromium } from "../local/chromium";
import { freeStackPorts } from "../local/free-port";
import { REPO_ROOT } from "../local/settings";
import { startLocalStack } from "../local/stack";
import { BROWSER_BUILD_OPTIONS } from "../local/web-server";

const { values } = parseArgs({ options: { runs: { type: "string", default: "7" } } });
const runs = Math.max(1, Number(values.runs));

const kib = (bytes: number) => `${(bytes / 1024).toFixed(1)} KiB`;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;

// 1. The typed client's bundle.
const bundled = await build({ ...BROWSER_BUILD_OPTIONS, entryPoints: [join(REPO_ROOT, "client/index.ts")] });
const clientJs = bundled.outputFiles[0]?.contents ?? new Uint8Array();
const clientGzip = gzipSync(clientJs, { level: 9 }).length;

// 2 and 3 need a stack.
const stack = await startLocalStack({
  ...(await freeStackPorts()),
  stateDir: await mkdtemp(join(tmpdir(), "cruddur-bench-web-")),
  quiet: true,
});
const browser = await launchChromium();
try {
  const files = ["/", "/app.js", "/styles.css", "/config.json"];
  const transfer: { path: string; wire: number; raw: number }[] = [];
  for (const path of files) {
    const zipped = await fetch(`${stack.webUrl}${path}`, { headers: { "accept-encoding": "gzip" } });
    const plain = await fetch(`${stack.webUrl}${path}`, { headers: { "accept-encoding": "identity" } });
    await Promise.all([zipped.arrayBuffer(), plain.arrayBuffer()]);
    transfer.push({
      path,
      wire: Number(zipped.headers.get("content-length")),
      raw: Number(plain.headers.get("content-length")),
    });
  }

  const user = stack.users[0];
  if (user === undefined) throw new Error("no seeded user");
  const signedOut: number[] = [];
  const signedIn: number[] = [];
  for (let run = 0; run < runs; run += 1) {
    const context = await browser.newContext({ viewport: { width: 1280, height: 860 } });
    const page = await context.newPage();
    await page.goto(stack.webUrl, { waitUntil: "commit" });
    await page.getByLabel("Handle", { exact: true }).waitFor();
    signedOut.push(await page.evaluate(() => performance.now()));
    await context.close();

    const tokens = await signInWithPassword(stack, user.username, user.password);
    const session = JSON.stringify({ ...tokens, username: user.handle });
    const withSession = await browser.newContext({ viewport: { width: 1280, height: 860 } });
    // Runs in the page, before its scripts: the session the app stores after a sign-in.
    await withSession.addInitScript(`localStorage.setItem("cruddur-messages.session", ${JSON.stringify(session)});`);
    const page2 = await withSession.newPage();
    await page2.goto(stack.webUrl, { waitUntil: "commit" });
    await page2.locator("#groups a").first().waitFor();
    await page2.locator('#live[data-status="live"]').waitFor();
    signedIn.push(await page2.evaluate(() => performance.now()));
    await withSession.close();
  }

  const totalWire = transfer.reduce((sum, f) => sum + f.wire, 0);
  const totalRaw = transfer.reduce((sum, f) => sum + f.raw, 0);
  const lines = [
    `Typed client bundle (client/index.ts, esbuild, minified ESM): ${clientJs.length} bytes (${kib(clientJs.length)}), gzip ${clientGzip} bytes (${kib(clientGzip)})`,
    "",
    "| file | on the wire (gzip) | uncompressed |",
    "|---|---:|---:|",
    ...transfer.map((f) => `| \`${f.path}\` | ${f.wire} B | ${f.raw} B |`),
    `| **total** | **${totalWire} B (${kib(totalWire)})** | ${totalRaw} B (${kib(totalRaw)}) |`,
    "",
    `Time to interactive, ${runs} runs, fresh context each (median / worst, ms):`,
    `- signed out, sign-in form ready: ${median(signedOut).toFixed(0)} / ${Math.max(...signedOut).toFixed(0)}`,
    `- signed in, conversation list shown and real-time live: ${median(signedIn).toFixed(0)} / ${Math.max(...signedIn).toFixed(0)}`,
  ];
  process.stdout.write(`${lines.join("\n")}\n`);
} finally {
  await browser.close();
  await stack.stop();
  await rm(stack.stateDir, { recursive: true, force: true });
}
