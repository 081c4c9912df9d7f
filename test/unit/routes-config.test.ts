import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig, requireUserPoolId } from "../../shared/config";
import { matchPath, ROUTES } from "../../shared/routes";

describe("route table", () => {
  it("has one route per method and path, every one authorized", () => {
    const keys = ROUTES.map((r) => `${r.method} ${r.path}`);
    expect(new Set(keys).size).toBe(ROUTES.length);
    expect(ROUTES.every((r) => r.auth)).toBe(true);
  });

  it("matches whole-segment parameters and decodes them", () => {
    expect(matchPath("/api/users/{handle}/short", "/api/users/%40bayko/short")).toEqual({ handle: "@bayko" });
    expect(matchPath("/api/messages/{message_group_uuid}", "/api/messages/abc")).toEqual({ message_group_uuid: "abc" });
    expect(matchPath("/api/messages/{message_group_uuid}", "/api/messages/")).toBeUndefined();
    expect(matchPath("/api/messages/{message_group_uuid}", "/api/messages/a/b")).toBeUndefined();
    expect(matchPath("/api/users/{handle}/short", "/api/users/%E0%A4%A/short")).toBeUndefined();
    expect(matchPath("/api/message_groups", "/api/message_groups")).toEqual({});
  });
});

describe("config", () => {
  const base = { TABLE_NAME: "t", AWS_REGION: "us-east-1" };

  it("reads the environment once into typed settings", () => {
    expect(loadConfig({ ...base, USER_POOL_ID: "p", USER_CACHE_TTL_MS: "0" })).toEqual({
      tableName: "t",
      region: "us-east-1",
      dynamodbEndpoint: undefined,
      cognitoEndpoint: undefined,
      userPoolId: "p",
      userCacheTtlMs: 0,
    });
  });

  it("fails fast on a missing or malformed variable", () => {
    expect(() => loadConfig({ AWS_REGION: "us-east-1" })).toThrow(/TABLE_NAME/);
    expect(() => loadConfig({ TABLE_NAME: "t" })).toThrow(/AWS_REGION/);
    expect(() => loadConfig({ ...base, USER_CACHE_TTL_MS: "soon" })).toThrow(ConfigError);
    expect(() => requireUserPoolId(loadConfig(base))).toThrow(/USER_POOL_ID/);
  });
});
