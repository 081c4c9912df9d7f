/**
 * Verification of IAM (Signature Version 4) signed requests, as the Event API's HTTP publish
 * endpoint does for a namespace whose publish authorization is IAM: the signature is recomputed
 * with the SDK's own signer (`@smithy/signature-v4`) from the request as received (method, path,
 * query, the signed headers, the body) and the local credentials, and compared in constant time.
 * No signing code of our own: only the parsing of the `Authorization` header and the checks
 * around it (key, scope, clock skew, body hash).
 */
import { createHash, timingSafeEqual } from "node:crypto";
import type { IncomingHttpHeaders } from "node:http";
import { Sha256 } from "@smithy/core/checksum";
import { SignatureV4 } from "@smithy/signature-v4";

/** The service name a publish to the Event API is signed for. */
export const APPSYNC_SIGNING_SERVICE = "appsync";
/** Largest difference between `x-amz-date` and the server's clock, ms (SigV4: 15 minutes). */
export const MAX_CLOCK_SKEW_MS = 15 * 60 * 1000;

/** A request as the server received it. */
export interface ReceivedRequest {
  method: string;
  /** The path, as sent (percent-encoded). */
  path: string;
  /** The query string without `?` (empty when none). */
  rawQuery: string;
  /** Header names in lower case, as Node gives them. */
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/** What the verifier checks the signature against. */
export interface SigV4VerifyOptions {
  /** The one set of credentials accepted; a request must carry their session token, if any, and no other. */
  credentials: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  region: string;
  service?: string;
  /** The server's clock, ms since the epoch (default `Date.now()`). */
  now?: number;
}

/** The outcome: accepted, or refused with a reason for the log (never for the client). */
export type SigV4Result = { ok: true; accessKeyId: string } | { ok: false; reason: string };

const AUTHORIZATION_PATTERN =
  /^AWS4-HMAC-SHA256 Credential=([^/\s]+)\/(\d{8})\/([^/\s]+)\/([^/\s]+)\/aws4_request,\s*SignedHeaders=([a-z0-9;._-]+),\s*Signature=([0-9a-f]{64})$/;

/** `20260101T120000Z` as a Date, or `undefined`. */
function parseAmzDate(text: string): Date | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(text);
  if (m === null) return undefined;
  const [, y, mo, d, h, mi, s] = m.map(Number) as [number, number, number, number, number, number, number];
  const date = new Date(Date.UTC(y, mo - 1, d, h, mi, s));
  return Number.isNaN(date.getTime()) ? undefined : date;
}

/** One header's value as the signer takes it (repeated headers joined by commas). */
function headerValue(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value.join(",") : value;
}

/** The query string as the signer's `query` (decoded names and values; repeated names as arrays). */
function queryOf(rawQuery: string): Record<string, string | string[]> {
  const query: Record<string, string | string[]> = {};
  for (const [name, value] of new URLSearchParams(rawQuery)) {
    const seen = query[name];
    query[name] = seen === undefined ? value : Array.isArray(seen) ? [...seen, value] : [seen, value];
  }
  return query;
}

/**
 * Checks the SigV4 signature of `request`.
 * Refused: no `Authorization: AWS4-HMAC-SHA256 …` header; another access key; a scope of another
 * date, region or service; `host` or `x-amz-date` not signed; `x-amz-date` missing or more than
 * {@link MAX_CLOCK_SKEW_MS} away; a session token other than the credentials' (none when they have
 * none); a signed `x-amz-content-sha256` that is not the body's hash;
 * a signature that is not the one the SDK's signer computes for the request.
 */
export async function verifySigV4(request: ReceivedRequest, options: SigV4VerifyOptions): Promise<SigV4Result> {
  const service = options.service ?? APPSYNC_SIGNING_SERVICE;
  const authorization = headerValue(request.headers, "authorization") ?? "";
  const parsed = AUTHORIZATION_PATTERN.exec(authorization);
  if (parsed === null) return { ok: false, reason: "no SigV4 Authorization header" };
  const [, accessKeyId, scopeDate, scopeRegion, scopeService, signedHeaderList, signature] = parsed as unknown as [
    string,
    string,
    string,
    string,
    string,
    string,
    string,
  ];
  if (accessKeyId !== options.credentials.accessKeyId) return { ok: false, reason: "unknown access key" };
  if (scopeRegion !== options.region) return { ok: false, reason: `signed for region ${scopeRegion}` };
  if (scopeService !== service) return { ok: false, reason: `signed for service ${scopeService}` };
  const signedHeaders = signedHeaderList.split(";");
  if (!signedHeaders.includes("host") || !signedHeaders.includes("x-amz-date")) {
    return { ok: false, reason: "host and x-amz-date must be signed" };
  }
  const amzDate = headerValue(request.headers, "x-amz-date") ?? "";
  const signingDate = parseAmzDate(amzDate);
  if (signingDate === undefined) return { ok: false, reason: "no valid x-amz-date" };
  if (!amzDate.startsWith(scopeDate)) return { ok: false, reason: "scope date is not the x-amz-date" };
  if (Math.abs((options.now ?? Date.now()) - signingDate.getTime()) > MAX_CLOCK_SKEW_MS) {
    return { ok: false, reason: "signature expired or from the future" };
  }
  const headers: Record<string, string> = {};
  for (const name of signedHeaders) {
    const value = headerValue(request.headers, name);
    if (value === undefined) return { ok: false, reason: `signed header ${name} is missing` };
    headers[name] = value;
  }
  if (headerValue(request.headers, "x-amz-security-token") !== options.credentials.sessionToken) {
    return { ok: false, reason: "not the session token of the credentials" };
  }
  const contentHash = headers["x-amz-content-sha256"];
  if (contentHash !== undefined && contentHash !== createHash("sha256").update(request.body).digest("hex")) {
    return { ok: false, reason: "x-amz-content-sha256 is not the hash of the body" };
  }

  const signer = new SignatureV4({
    credentials: options.credentials,
    region: options.region,
    service,
    sha256: Sha256,
    applyChecksum: false,
  });
  const host = headers.host ?? "";
  const recomputed = await signer.sign(
    {
      method: request.method,
      protocol: "http:",
      hostname: host.replace(/:\d+$/, ""),
      path: request.path,
      query: queryOf(request.rawQuery),
      headers,
      body: request.body,
    },
    { signingDate, signingRegion: options.region, signingService: service, signableHeaders: new Set(signedHeaders) },
  );
  const expected = /Signature=([0-9a-f]{64})$/.exec(String(recomputed.headers.authorization ?? ""))?.[1] ?? "";
  const expectedHeaders = /SignedHeaders=([^,]+),/.exec(String(recomputed.headers.authorization ?? ""))?.[1];
  if (expectedHeaders !== signedHeaderList) return { ok: false, reason: "signed headers do not match" };
  if (expected.length !== signature.length || !timingSafeEqual(Buffer.from(expected), Buffer.from(signature))) {
    return { ok: false, reason: "signature does not match" };
  }
  return { ok: true, accessKeyId };
}
