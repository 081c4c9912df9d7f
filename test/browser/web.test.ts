/**
 * The web client (`web/`, served by the local stack at `webUrl`) in a real browser: Debian's
 * chromium driven by playwright-core (never a browser download), one launch, two users side by
 * side in two contexts (andrewbrown on a wide screen, bayko at 320 px, signing in and replying with
 * the keyboard only). Each journey: sign in, the conversation list with unread counts, older pages
 * on scroll, a message on the other screen within 2 s, the read receipt coming back, a reload
 * keeping the state, starting a conversation by handle, blocking; CORS from the app's origin and
 * from another; no console error. Screenshots go to test-results/web/ (kept out of git).
 *
 * Skipped, saying so, only when chromium is not installed and not in CI (`.ci/run` installs it).
 */
import { mkdir, rm } from "node:fs/promises";
import { join } from "node:path";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { chromiumPath, launchChromium } from "../../local/chromium";
import { REPO_ROOT } from "../../local/settings";
import { signIn } from "../../local/sign-in";
import type { LocalStack } from "../../local/stack";
import { callApi, settleRealtime, startTestStack } from "../support/stack";

const SCREENSHOTS = join(REPO_ROOT, "test-results", "web");
/** The bound for a message to show on the other member's screen, ms. */
const LIVE_WITHIN_MS = 2000;

const executablePath = chromiumPath();
if (executablePath === undefined && process.env.CI) {
  throw new Error("chromium is not installed: .ci/run installs Debian's chromium (apt-get install -y chromium)");
}
if (executablePath === undefined) {
  console.warn("test/browser/web.test.ts skipped: no chromium on this machine (apt-get install -y chromium)");
}

let stack: LocalStack;
let browser: Browser;
let contexts: BrowserContext[] = [];
let andrew: Page;
let bayko: Page;
const consoleErrors: string[] = [];
let shot = 0;

async function screenshot(page: Page, name: string): Promise<void> {
  shot += 1;
  await page.screenshot({ path: join(SCREENSHOTS, `${String(shot).padStart(2, "0")}-${name}.png`), fullPage: true });
}

async function openPage(viewport: { width: number; height: number }): Promise<Page> {
  const context = await browser.newContext({ viewport });
  contexts.push(context);
  context.setDefaultTimeout(10_000);
  const page = await context.newPage();
  const who = `${viewport.width}px`;
  page.on("console", (message) => {
    if (message.type() === "error") consoleErrors.push(`${who}: ${message.text()}`);
  });
  page.on("pageerror", (error) => consoleErrors.push(`${who}: ${error.message}`));
  await page.goto(stack.webUrl);
  return page;
}

function password(handle: string): string {
  const user = stack.users.find((u) => u.handle === handle);
  if (user === undefined) throw new Error(`no seeded user ${handle}`);
  return user.password;
}

/**
 * Runs a step that provokes an error answer with `status` on purpose, and takes its one
 * "Failed to load resource" line (Chromium logs every non-2xx fetch) off the console errors: the
 * app's own handling of it is what the step checks.
 */
async function provoking(status: number, step: () => Promise<void>): Promise<void> {
  const before = consoleErrors.length;
  await step();
  const index = consoleErrors.findIndex(
    (e, i) => i >= before && e.includes(`Failed to load resource: the server responded with a status of ${status}`),
  );
  if (index !== -1) consoleErrors.splice(index, 1);
}

const conversationWith = (page: Page, name: string) => page.getByRole("link", { name: new RegExp(name) });

describe.skipIf(executablePath === undefined)("web client in chromium", () => {
  beforeAll(async () => {
    await rm(SCREENSHOTS, { recursive: true, force: true });
    await mkdir(SCREENSHOTS, { recursive: true });
    stack = await startTestStack();
    browser = await launchChromium(executablePath);
    // The publish consumer starts with the seeded conversation's events: let them pass first.
    const user = stack.users.find((u) => u.handle === "andrewbrown");
    if (user === undefined) throw new Error("no seeded andrewbrown");
    const tokens = await signIn(stack, user.username, user.password);
    const me = (await callApi(stack, "GET", "/api/users/@andrewbrown/short")).body as { uuid: string };
    await settleRealtime(stack, tokens.accessToken, me.uuid);
    andrew = await openPage({ width: 1280, height: 860 });
    bayko = await openPage({ width: 320, height: 640 });
  });

  afterAll(async () => {
    for (const context of contexts) await context.close();
    contexts = [];
    await browser?.close();
    await stack?.stop();
    if (stack !== undefined) await rm(stack.stateDir, { recursive: true, force: true });
  });

  it("signs both users in: by mouse on a wide screen, by keyboard only at 320 px", async () => {
    await screenshot(andrew, "sign-in");
    await andrew.getByLabel("Handle", { exact: true }).fill("andrewbrown");
    await andrew.getByLabel("Password", { exact: true }).fill("wrong password");
    await provoking(400, async () => {
      await andrew.getByRole("button", { name: "Sign in" }).click();
      await expect.poll(() => andrew.getByRole("alert").first().textContent()).toContain("Wrong handle or password");
    });
    await andrew.getByLabel("Password", { exact: true }).fill(password("andrewbrown"));
    await andrew.getByRole("button", { name: "Sign in" }).click();
    await andrew.getByText("Signed in as @andrewbrown").waitFor();

    // Keyboard only: the handle field has the focus; Tab to the password; Enter submits.
    await bayko.getByLabel("Handle", { exact: true }).waitFor();
    await bayko.keyboard.type("bayko");
    await bayko.keyboard.press("Tab");
    await bayko.keyboard.type(password("bayko"));
    await bayko.keyboard.press("Enter");
    await bayko.getByText("Signed in as @bayko").waitFor();
    await bayko.getByText("Live", { exact: true }).waitFor();
    // Readable at 320 px: nothing wider than the screen.
    expect(await bayko.evaluate<number>("document.documentElement.scrollWidth")).toBeLessThanOrEqual(320);
  });

  it("lists the conversations with unread counts", async () => {
    const link = conversationWith(bayko, "Andrew Brown");
    await link.waitFor();
    expect(await link.locator(".unread").textContent()).toMatch(/^\d+\+? unread$/);
    await screenshot(bayko, "conversation-list-320px");
  });

  it("opens a conversation and loads older pages on scroll", async () => {
    await conversationWith(andrew, "Andrew Bayko").click();
    const messages = andrew.locator("#messages > li");
    await expect.poll(() => messages.count()).toBe(20);
    await andrew.locator("#scroller").evaluate((e) => e.scrollTo(0, 0));
    await expect.poll(() => messages.count()).toBe(40);
    // The button does the same for keyboard users.
    await andrew.getByRole("button", { name: "Load older messages" }).click();
    await expect.poll(() => messages.count()).toBe(60);
    await screenshot(andrew, "conversation-older-pages");
  });

  it("shows a sent message on the other screen within 2 s, and the read receipt coming back", async () => {
    const text = "Hello Bayko, this one came from the web client.";
    await andrew.getByLabel("Message", { exact: true }).fill(text);
    await andrew.getByRole("button", { name: "Send" }).click();
    await andrew.locator("#messages").getByText(text).waitFor();
    const listed = conversationWith(bayko, "Andrew Brown").getByText(text);
    await listed.waitFor({ timeout: LIVE_WITHIN_MS });

    await conversationWith(bayko, "Andrew Brown").click();
    await bayko.locator("#messages").getByText(text).waitFor();
    const mine = andrew.locator("#messages > li", { hasText: text });
    await mine.locator('[data-receipt="seen"]').waitFor({ timeout: LIVE_WITHIN_MS });
    await screenshot(bayko, "conversation-320px");

    // Bayko replies by keyboard (Ctrl+Enter sends); it shows on Andrew's open conversation live.
    const reply = "Got it, live and without a reload.";
    await bayko.getByLabel("Message", { exact: true }).focus();
    await bayko.keyboard.type(reply);
    await bayko.keyboard.press("Control+Enter");
    await andrew.locator("#messages").getByText(reply).waitFor({ timeout: LIVE_WITHIN_MS });
    await screenshot(andrew, "conversation");
    await andrew.screenshot({ path: join(SCREENSHOTS, "readme-conversation.png") });

    // A reload keeps the session and the open conversation.
    await andrew.reload();
    await andrew.getByText("Signed in as @andrewbrown").waitFor();
    await andrew.locator("#messages").getByText(reply).waitFor();
    expect(await andrew.getByRole("heading", { level: 2, name: /Andrew Bayko/ }).count()).toBe(1);
  });

  it("starts a conversation by handle", async () => {
    await andrew.getByLabel("Their handle").fill("londo");
    await andrew.getByLabel("First message").fill("Hello Londo, from the web client");
    await andrew.getByRole("button", { name: "Start conversation" }).click();
    await andrew.getByRole("heading", { level: 2, name: /Londo Mollari/ }).waitFor();
    await andrew.locator("#messages").getByText("Hello Londo, from the web client").waitFor();
    await conversationWith(andrew, "Londo Mollari").waitFor();
    await screenshot(andrew, "new-conversation");
  });

  it("blocks and unblocks: while blocked, the other member cannot send", async () => {
    await conversationWith(andrew, "Andrew Bayko").click();
    await andrew.getByRole("button", { name: "Block @bayko" }).click();
    await andrew.getByRole("button", { name: "Unblock @bayko" }).waitFor();
    await bayko.getByLabel("Message", { exact: true }).fill("Can you hear me?");
    await provoking(403, async () => {
      await bayko.getByRole("button", { name: "Send" }).click();
      await expect.poll(() => bayko.locator("#composer-error").textContent()).toContain("You cannot message this user");
    });
    await screenshot(andrew, "blocked");
    await screenshot(bayko, "blocked-320px");
    await andrew.getByRole("button", { name: "Unblock @bayko" }).click();
    await andrew.getByRole("button", { name: "Block @bayko" }).waitFor();
  });

  it("is allowed by the API's CORS from its own origin, refused from another", async () => {
    // A bearer token makes the request preflighted (OPTIONS) from the app's origin.
    const fromApp = await andrew.evaluate(async (apiUrl) => {
      // Runs in the page (the DOM's localStorage; the test is compiled without the DOM library).
      const storage = (globalThis as unknown as { localStorage: { getItem(key: string): string | null } }).localStorage;
      const session = JSON.parse(storage.getItem("cruddur-messages.session") ?? "{}") as { accessToken?: string };
      const response = await fetch(`${apiUrl}/api/users/me/blocks`, {
        headers: { authorization: `Bearer ${session.accessToken}`, "content-type": "application/json" },
      });
      return response.status;
    }, stack.apiUrl);
    expect(fromApp).toBe(200);

    const other = await browser.newContext();
    contexts.push(other);
    const page = await other.newPage();
    await page.goto(`${new URL(stack.events.httpUrl).origin}/`);
    const fromOther = await page.evaluate(async (apiUrl) => {
      try {
        await fetch(`${apiUrl}/api/users/me/blocks`, { headers: { authorization: "Bearer x" } });
        return "answered";
      } catch (error) {
        return (error as Error).name;
      }
    }, stack.apiUrl);
    expect(fromOther).toBe("TypeError");
  });

  it("logged no console error on either screen", () => {
    expect(consoleErrors).toEqual([]);
  });
});
