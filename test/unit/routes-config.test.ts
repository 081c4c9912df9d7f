import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig, requireUserPoolId } from "../../shared/config";
import { ROUTES } from "../../shared/routes";

describe("route table", () => {
  it("has one route per method and path, every one authorized but the public profile", () => {
    const keys = ROUTES.map((r) => `${r.method} ${r.path}`);
    expect(new Set(keys).size).toBe(ROUTES.length);
    expect(ROUTES.filter((r) => !r.auth).map((r) => `${r.method} ${r.path}`)).toEqual([
      "GET /api/users/{handle}/short",
    ]);
  });

  it("lets only the rename route call Cognito", () => {
    expect(ROUTES.filter((r) => r.permissions.cognito.length > 0).map((r) => r.fn)).toEqual(["update-profile"]);
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
      handleReservationMs: 30 * 24 * 60 * 60 * 1000,
      sendLimits: { messagesPerMinute: 30, messageBurst: 10, newGroupsPerHour: 10 },
    });
    expect(loadConfig({ ...base, HANDLE_RESERVATION_DAYS: "2" }).handleReservationMs).toBe(2 * 86_400_000);
  });

  it("fails fast on a missing or malformed variable", () => {
    expect(() => loadConfig({ AWS_REGION: "us-east-1" })).toThrow(/TABLE_NAME/);
    expect(() => loadConfig({ TABLE_NAME: "t" })).toThrow(/AWS_REGION/);
    expect(() => loadConfig({ ...base, USER_CACHE_TTL_MS: "soon" })).toThrow(ConfigError);
    expect(() => loadConfig({ ...base, HANDLE_RESERVATION_DAYS: "-1" })).toThrow(/HANDLE_RESERVATION_DAYS/);
    expect(() => requireUserPoolId(loadConfig(base))).toThrow(/USER_POOL_ID/);
  });
});
