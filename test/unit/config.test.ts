import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { CONFIG_ENV, type Config, ConfigError, configEnv, loadConfig, requireEventsHttpUrl } from "../../shared/config";

const DAY_MS = 86_400_000;
const nonBlank = fc.string({ minLength: 1, maxLength: 20 }).filter((s) => s.trim() !== "");
const config: fc.Arbitrary<Config> = fc.record({
  tableName: nonBlank,
  region: nonBlank,
  dynamodbEndpoint: fc.option(nonBlank, { nil: undefined }),
  cognitoEndpoint: fc.option(nonBlank, { nil: undefined }),
  userPoolId: fc.option(nonBlank, { nil: undefined }),
  userCacheTtlMs: fc.nat(),
  handleReservationMs: fc.nat({ max: 3650 }).map((days) => days * DAY_MS),
  eventsHttpUrl: fc.option(nonBlank, { nil: undefined }),
  sendLimits: fc.record({
    messagesPerMinute: fc.integer({ min: 1, max: 100_000 }),
    messageBurst: fc.integer({ min: 1, max: 100_000 }),
    newGroupsPerHour: fc.integer({ min: 1, max: 100_000 }),
  }),
});

describe("configEnv", () => {
  it("is the inverse of loadConfig", () => {
    fc.assert(
      fc.property(config, (c) => {
        expect(loadConfig(configEnv(c))).toEqual(c);
      }),
    );
  });

  it("writes what loadConfig reads, with the defaults spelled out", () => {
    const env = { TABLE_NAME: "t", AWS_REGION: "eu-west-1", DYNAMODB_ENDPOINT: "http://localhost:8000" };
    expect(configEnv(loadConfig(env))).toEqual({
      ...env,
      USER_CACHE_TTL_MS: "60000",
      HANDLE_RESERVATION_DAYS: "30",
      SEND_LIMIT_PER_MINUTE: "30",
      SEND_LIMIT_BURST: "10",
      NEW_GROUP_LIMIT_PER_HOUR: "10",
    });
  });

  it("writes only the settings given, so loadConfig takes its defaults for the rest", () => {
    const env = configEnv({ tableName: "t", userPoolId: undefined, handleReservationMs: 7 * DAY_MS });
    expect(env).toEqual({ [CONFIG_ENV.tableName]: "t", [CONFIG_ENV.handleReservationDays]: "7" });
    // AWS_REGION is left out (the Lambda runtime sets it): with it, the function's config loads.
    expect(loadConfig({ ...env, AWS_REGION: "eu-west-1" })).toMatchObject({ tableName: "t", userCacheTtlMs: 60_000 });
  });

  it("reads the send limits, 30 a minute with a burst of 10 and 10 new conversations an hour by default", () => {
    const base = { TABLE_NAME: "t", AWS_REGION: "eu-west-1" };
    expect(loadConfig(base).sendLimits).toEqual({ messagesPerMinute: 30, messageBurst: 10, newGroupsPerHour: 10 });
    expect(
      loadConfig({ ...base, SEND_LIMIT_PER_MINUTE: "60", SEND_LIMIT_BURST: "5", NEW_GROUP_LIMIT_PER_HOUR: "2" })
        .sendLimits,
    ).toEqual({ messagesPerMinute: 60, messageBurst: 5, newGroupsPerHour: 2 });
    for (const bad of ["0", "-1", "1.5", "ten"]) {
      expect(() => loadConfig({ ...base, SEND_LIMIT_BURST: bad })).toThrow(ConfigError);
    }
  });

  it("refuses settings no variable can say", () => {
    const c = loadConfig({ TABLE_NAME: "t", AWS_REGION: "eu-west-1" });
    expect(() => configEnv({ ...c, handleReservationMs: DAY_MS + 1 })).toThrow(ConfigError);
    expect(() => configEnv({ ...c, userCacheTtlMs: -1 })).toThrow(ConfigError);
    expect(() => configEnv({ ...c, userCacheTtlMs: 0.5 })).toThrow(ConfigError);
  });
});

describe("requireEventsHttpUrl", () => {
  const base = { TABLE_NAME: "t", AWS_REGION: "eu-west-1" };
  it("takes an http(s) URL with no path", () => {
    for (const url of ["https://abc.appsync-api.eu-west-1.amazonaws.com", "http://127.0.0.1:4580"]) {
      expect(requireEventsHttpUrl(loadConfig({ ...base, [CONFIG_ENV.eventsHttpUrl]: url }))).toBe(url);
    }
  });

  it("fails fast, naming the variable, when it is missing or not such a URL", () => {
    expect(() => requireEventsHttpUrl(loadConfig(base))).toThrow(
      /missing required environment variable EVENTS_HTTP_URL/,
    );
    for (const bad of ["abc.appsync-api.amazonaws.com", "ftp://x", "https://x/event", "https://x/", "https://x?a=1"]) {
      expect(() => requireEventsHttpUrl(loadConfig({ ...base, [CONFIG_ENV.eventsHttpUrl]: bad })), bad).toThrow(
        /EVENTS_HTTP_URL/,
      );
    }
  });
});
