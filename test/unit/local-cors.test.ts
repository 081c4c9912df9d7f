import { describe, expect, it } from "vitest";
import { corsHeaders, preflightHeaders } from "../../local/cors";
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
});
