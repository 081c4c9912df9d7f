/**
 * Test clients of an AppSync Events endpoint: a raw WebSocket client of the documented protocol
 * (the `ws` package, no protocol code of ours beyond building the frames the AWS guide shows), and
 * an IAM-signed HTTP publisher (the SDK's SigV4 signer), as the publish function signs.
 */
import { Sha256 } from "@smithy/core/checksum";
import { SignatureV4 } from "@smithy/signature-v4";
import { WebSocket } from "ws";

/** The WebSocket subprotocol of the Event API (AWS guide). */
export const EVENT_WS_PROTOCOL = "aws-appsync-event-ws";

/** The `header-<base64url JSON>` subprotocol carrying `authorization`. */
export const authSubprotocol = (authorization: Record<string, string>): string =>
  `header-${Buffer.from(JSON.stringify(authorization)).toString("base64url")}`;

/** A frame the server sent, parsed. */
export type Frame = Record<string, unknown> & { type: string };

/** A raw protocol client: every frame the server sends is kept, in order, until taken. */
export class RawEventsClient {
  private readonly frames: Frame[] = [];
  private waiters: (() => void)[] = [];
  /** Close code and reason, once closed. */
  closed: { code: number; reason: string } | undefined;

  private constructor(readonly ws: WebSocket) {
    ws.on("message", (data) => {
      this.frames.push(JSON.parse(data.toString()) as Frame);
      this.wake();
    });
    ws.on("close", (code, reason) => {
      this.closed = { code, reason: reason.toString() };
      this.wake();
    });
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake();
  }

  /**
   * Opens a connection to `realtimeUrl` offering `aws-appsync-event-ws` and, unless `authorization`
   * is `null`, the header subprotocol of `authorization`; resolves once open.
   * @throws Error when the handshake fails (e.g. HTTP 400/404 from the server).
   */
  static async open(
    realtimeUrl: string,
    authorization: Record<string, string> | null,
    protocols: string[] = [EVENT_WS_PROTOCOL],
  ): Promise<RawEventsClient> {
    const ws = new WebSocket(
      realtimeUrl,
      authorization === null ? protocols : [...protocols, authSubprotocol(authorization)],
    );
    const client = new RawEventsClient(ws);
    await new Promise<void>((resolve, reject) => {
      ws.once("open", () => resolve());
      ws.once("error", reject);
      ws.once("unexpected-response", (_request, response) =>
        reject(new Error(`handshake answered HTTP ${response.statusCode}`)),
      );
    });
    return client;
  }

  /** Opens a connection and does `connection_init`; resolves with the `connection_ack`. */
  static async connect(realtimeUrl: string, token: string, host = "127.0.0.1"): Promise<RawEventsClient> {
    const client = await RawEventsClient.open(realtimeUrl, { Authorization: token, host });
    client.send({ type: "connection_init" });
    const ack = await client.next();
    if (ack.type !== "connection_ack") throw new Error(`expected connection_ack, got ${JSON.stringify(ack)}`);
    return client;
  }

  /** Sends a frame: an object as JSON, a string or a Buffer as is (a Buffer as a binary frame). */
  send(frame: unknown): void {
    if (typeof frame === "string") this.ws.send(frame);
    else if (Buffer.isBuffer(frame)) this.ws.send(frame, { binary: true });
    else this.ws.send(JSON.stringify(frame));
  }

  /**
   * The next frame other than `ka` (taken from the kept ones).
   * @throws Error when none comes within `timeoutMs`, or the connection closes first.
   */
  async next(timeoutMs = 5000): Promise<Frame> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const index = this.frames.findIndex((f) => f.type !== "ka");
      if (index !== -1) return this.frames.splice(index, 1)[0] as Frame;
      if (this.closed !== undefined) throw new Error(`connection closed (${this.closed.code}) before a frame came`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no frame within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /**
   * Every frame other than `ka` up to and including the first that `isSentinel` accepts: what
   * the server sent before answering the sentinel frame the caller sent last.
   */
  async until(isSentinel: (frame: Frame) => boolean, timeoutMs = 10_000): Promise<Frame[]> {
    const got: Frame[] = [];
    for (;;) {
      const frame = await this.next(timeoutMs);
      got.push(frame);
      if (isSentinel(frame)) return got;
    }
  }

  /** Sends an `unsubscribe` of an id never used and returns every frame up to its `unsubscribe_error`. */
  async drainWithSentinel(): Promise<Frame[]> {
    const id = `sentinel-${Math.random().toString(36).slice(2)}`;
    this.send({ type: "unsubscribe", id });
    const frames = await this.until((f) => f.type === "unsubscribe_error" && f.id === id);
    return frames.slice(0, -1);
  }

  /** `ka` frames received and not taken. */
  keepAlives(): number {
    return this.frames.filter((f) => f.type === "ka").length;
  }

  /** Resolves once closed (at once when it is). */
  async waitClosed(timeoutMs = 5000): Promise<{ code: number; reason: string }> {
    const deadline = Date.now() + timeoutMs;
    while (this.closed === undefined) {
      if (Date.now() > deadline) throw new Error(`not closed within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, deadline - Date.now());
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    return this.closed;
  }

  /** Closes the connection and waits for the close. */
  async close(): Promise<void> {
    if (this.closed !== undefined) return;
    this.ws.close();
    await this.waitClosed();
  }
}

/** A subscribe frame as the AWS guide shows it. */
export const subscribeFrame = (id: string, channel: string, token: string, host = "127.0.0.1") => ({
  type: "subscribe",
  id,
  channel,
  authorization: { Authorization: token, host },
});

/** What a publish answered. */
export interface PublishResponse {
  status: number;
  body: unknown;
}

/** Credentials and region to sign with. */
export interface SigningOptions {
  credentials: { accessKeyId: string; secretAccessKey: string };
  region: string;
  /** Default `appsync`. */
  service?: string;
  /** Default now. */
  signingDate?: Date;
}

/** The headers of a SigV4-signed `POST` of `body` to `url`, by the SDK's signer. */
export async function signedHeaders(
  url: string,
  body: string,
  options: SigningOptions,
): Promise<Record<string, string>> {
  const target = new URL(url);
  const signer = new SignatureV4({
    credentials: options.credentials,
    region: options.region,
    service: options.service ?? "appsync",
    sha256: Sha256,
  });
  const signed = await signer.sign(
    {
      method: "POST",
      protocol: target.protocol,
      hostname: target.hostname,
      port: Number(target.port),
      path: target.pathname,
      query: {},
      headers: { host: target.host, "content-type": "application/json" },
      body,
    },
    options.signingDate === undefined ? {} : { signingDate: options.signingDate },
  );
  return signed.headers as Record<string, string>;
}

/** POSTs `body` (an object as JSON, a string as is) to `url` with `headers`. */
export async function postEvents(
  url: string,
  body: unknown,
  headers: Record<string, string>,
): Promise<PublishResponse> {
  const response = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, body: text === "" ? undefined : JSON.parse(text) };
}

/** POSTs `{channel, events}` IAM-signed with `options`. */
export async function signedPublish(
  httpUrl: string,
  channel: string,
  events: unknown[],
  options: SigningOptions,
): Promise<PublishResponse> {
  const body = JSON.stringify({ channel, events });
  return postEvents(httpUrl, body, await signedHeaders(httpUrl, body, options));
}
