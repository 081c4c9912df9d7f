/**
 * Debian's chromium as the browser test (`test/browser/web.test.ts`) and the web bench
 * (`bench/web-client.ts`) launch it through playwright-core: the system binary, never a browser
 * download, with the flags DESIGN.md ("Facts") gives for these machines.
 */
import { execFileSync } from "node:child_process";
import { type Browser, chromium } from "playwright-core";

/** Flags of every launch: headless, no sandbox (containers), no GPU, no QUIC, no background traffic. */
export const CHROMIUM_ARGS: readonly string[] = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

/** The path of `chromium` on PATH (Debian: /usr/bin/chromium), or undefined when there is none. */
export function chromiumPath(): string | undefined {
  try {
    return execFileSync("sh", ["-c", "command -v chromium"], { encoding: "utf8" }).trim() || undefined;
  } catch {
    return undefined;
  }
}

/**
 * Launches Debian's chromium with {@link CHROMIUM_ARGS}.
 * @throws Error when chromium is not on PATH (`apt-get install -y chromium`); playwright-core's
 *   error when it does not start.
 */
export function launchChromium(executablePath = chromiumPath()): Promise<Browser> {
  if (executablePath === undefined) throw new Error("chromium not found on PATH (apt-get install -y chromium)");
  return chromium.launch({ executablePath, args: [...CHROMIUM_ARGS] });
}
