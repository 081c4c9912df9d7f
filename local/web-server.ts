/**
 * The web client of the local stack (`web/`): built with the project's esbuild when the stack
 * starts (`web/main.ts` bundled and minified into one ES module; `web/index.html` and
 * `web/styles.css` as they are), and served on its own port with the stack's settings as
 * `/config.json` (API, cognito-local, events emulator). Every file is sent gzip-compressed when
 * the browser accepts it, with a Content-Security-Policy that allows scripts and styles of the
 * page's own origin only and connections to the stack's own servers.
 */

import { readFile } from "node:fs/promises";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { type BuildOptions, build } from "esbuild";
import type { LocalLogger } from "./logger";
import { httpUrl, type LocalHost, REPO_ROOT } from "./settings";

/** The folder of the web client's sources. */
export const WEB_DIR = join(REPO_ROOT, "web");

/** What the web app reads from `/config.json` (`web/config.ts` reads the same shape). */
export interface WebConfig {
  /** The HTTP API's origin. */
  apiUrl: string;
  cognito: {
    /** cognito-local's URL; absent in the cloud (the regional Cognito endpoint). */
    endpoint?: string;
    region: string;
    userPoolId: string;
    userPoolClientId: string;
    /** `password` (USER_PASSWORD_AUTH: cognito-local) or `srp` (USER_SRP_AUTH: a Cognito user pool). */
    auth: "password" | "srp";
  };
  events: {
    /** `ws(s)://…/event/realtime`. */
    realtimeUrl: string;
    /** The Event API's HTTP host (sent in the real-time authorization). */
    httpHost: string;
  };
  /** Seeded handles, shown as a hint on the sign-in page (local only). */
  seededHandles?: string[];
}

/** One file of the built app. */
export interface WebAsset {
  contentType: string;
  body: Buffer;
  gzip: Buffer;
}

/** The built app, by path (`/`, `/app.js`, `/styles.css`). */
export type WebAssets = ReadonlyMap<string, WebAsset>;

const asset = (contentType: string, body: Buffer): WebAsset => ({
  contentType,
  body,
  gzip: gzipSync(body, { level: 9 }),
});

/**
 * What a browser build of the typed client must define: `buffer` 4.x (the npm package, which
 * amazon-cognito-identity-js's SRP helper imports) reads browserify's `global` when it loads, and
 * a browser has only `globalThis` (without it the page throws "global is not defined").
 * esbuild's `define` replaces the identifier at build time. The only other reader is the SDK's
 * random-number helper (`global.crypto`, behind a `typeof` guard), which then finds Web Crypto.
 */
export const BROWSER_DEFINE: Readonly<Record<string, string>> = { global: "globalThis" };

/**
 * The esbuild options of every browser build (the web app here, the typed client in the web
 * bench): one minified ES2020 module for the browser with {@link BROWSER_DEFINE}, the licence
 * notices of bundled code kept at the end (amazon-cognito-identity-js is Apache-2.0), in memory.
 */
export const BROWSER_BUILD_OPTIONS = {
  bundle: true,
  minify: true,
  format: "esm",
  target: "es2020",
  platform: "browser",
  define: { ...BROWSER_DEFINE },
  write: false,
  logLevel: "silent",
  legalComments: "eof",
} as const satisfies BuildOptions;

let built: Promise<WebAssets> | undefined;

/**
 * Builds the web app (about 0.1 s; once per process, then cached): `web/main.ts` and what it
 * imports (the typed client of `client/`, with amazon-cognito-identity-js's SRP helper and the npm
 * `buffer` package it needs) bundled by esbuild into one minified ES2020 module (`BROWSER_DEFINE`).
 * @throws esbuild's error when the sources do not build; a file-system error when a file is missing.
 */
export function buildWebApp(): Promise<WebAssets> {
  built ??= (async () => {
    const result = await build({ ...BROWSER_BUILD_OPTIONS, entryPoints: [join(WEB_DIR, "main.ts")] });
    const js = result.outputFiles[0];
    if (js === undefined) throw new Error("web build produced no output");
    const [html, css] = await Promise.all([
      readFile(join(WEB_DIR, "index.html")),
      readFile(join(WEB_DIR, "styles.css")),
    ]);
    return new Map([
      ["/", asset("text/html; charset=utf-8", html)],
      ["/app.js", asset("text/javascript; charset=utf-8", Buffer.from(js.contents))],
      ["/styles.css", asset("text/css; charset=utf-8", css)],
    ]);
  })();
  built.catch(() => {
    built = undefined;
  });
  return built;
}

export interface WebServerOptions {
  port: number;
  host: LocalHost;
  config: WebConfig;
  logger: LocalLogger;
}

export interface WebServer {
  /** `http://<host>:<port>`: the app. */
  url: string;
  close(): Promise<void>;
}

/** The origins of a config's servers (HTTP API, cognito, events WebSocket), for the page's `connect-src`. */
function connectSources(config: WebConfig): string {
  const urls = [
    config.apiUrl,
    config.events.realtimeUrl,
    config.cognito.endpoint ?? `https://cognito-idp.${config.cognito.region}.amazonaws.com`,
  ];
  return [...new Set(urls.map((u) => new URL(u).origin))].join(" ");
}

/**
 * Builds the app ({@link buildWebApp}) and serves it: `GET /` (also any path without a dot: the
 * app's own routes), `/app.js`, `/styles.css`, `/config.json`; anything else 404; a method other
 * than GET or HEAD 405.
 * @throws the build's error, or Error when the port cannot be bound.
 */
export async function startWebServer(options: WebServerOptions): Promise<WebServer> {
  const assets = new Map(await buildWebApp());
  assets.set("/config.json", asset("application/json", Buffer.from(JSON.stringify(options.config))));
  const csp = [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    `connect-src 'self' ${connectSources(options.config)}`,
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join("; ");

  const server: Server = createServer((request: IncomingMessage, response: ServerResponse) => {
    const path = (request.url ?? "/").split("?")[0] ?? "/";
    const method = request.method ?? "GET";
    const headers: Record<string, string> = {
      "x-content-type-options": "nosniff",
      "cache-control": "no-cache",
      "content-security-policy": csp,
      "referrer-policy": "no-referrer",
    };
    if (method !== "GET" && method !== "HEAD") {
      response.writeHead(405, { ...headers, allow: "GET, HEAD" }).end();
      return;
    }
    const found = assets.get(path) ?? (path.includes(".") ? undefined : assets.get("/"));
    if (found === undefined) {
      response.writeHead(404, { ...headers, "content-type": "text/plain; charset=utf-8" }).end("not found\n");
      return;
    }
    const gzip = /\bgzip\b/.test(String(request.headers["accept-encoding"] ?? ""));
    const body = gzip ? found.gzip : found.body;
    response.writeHead(200, {
      ...headers,
      "content-type": found.contentType,
      "content-length": String(body.length),
      vary: "Accept-Encoding",
      ...(gzip ? { "content-encoding": "gzip" } : {}),
    });
    response.end(method === "HEAD" ? undefined : body);
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen({ port: options.port, host: options.host.listen }, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const url = httpUrl(options.host.connect, port);
  options.logger.info("web client ready", { web_url: url });
  return {
    url,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
