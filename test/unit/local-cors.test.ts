import { describe, expect, it } from "vitest";
import { allowedOrigin, corsHeaders, preflightHeaders } from "../../local/cors";
import { NEXT_CURSOR_HEADER } from "../../shared/api-contract";

describe("CORS of the emulated API", () => {
  it("allows the frontend origin and exposes the paging cursor header on every answer", () => {
    expect(corsHeaders("http://localhost:3000")).toMatchObject({
      "access-control-allow-origin": "http://localhost:3000",
      "access-control-expose-headers": `${NEXT_CURSOR_HEADER},RateLimit,RateLimit-Policy,Retry-After`,
    });
  });

  it("answers preflights with the methods, headers and max age", () => {
    expect(preflightHeaders("http://localhost:3000")).toMatchObject({
      "access-control-allow-origin": "http://localhost:3000",
      "access-control-allow-methods": "GET,POST,PATCH,DELETE,OPTIONS",
      "access-control-allow-headers": "Authorization,Content-Type,Idempotency-Key",
      "access-control-max-age": expect.stringMatching(/^\d+$/),
    });
  });

  it("allows the request's origin when it is one of the allowed ones (the frontend's, the web client's), else the first", () => {
    const allowed = ["http://localhost:3000", "http://127.0.0.1:4569"];
    expect(allowedOrigin(allowed, "http://127.0.0.1:4569")).toBe("http://127.0.0.1:4569");
    expect(allowedOrigin(allowed, "http://localhost:3000")).toBe("http://localhost:3000");
    expect(allowedOrigin(allowed, "https://evil.example")).toBe("http://localhost:3000");
    expect(allowedOrigin(allowed)).toBe("http://localhost:3000");
    expect(preflightHeaders(allowed, "http://127.0.0.1:4569")["access-control-allow-origin"]).toBe(
      "http://127.0.0.1:4569",
    );
  });
});
