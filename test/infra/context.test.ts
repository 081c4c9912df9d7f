import { RetentionDays } from "aws-cdk-lib/aws-logs";
import { describe, expect, it } from "vitest";
import { CONTEXT_DEFAULTS, ContextError, type ContextKey, parseSettings } from "../../infra/context";
import { loadConfig } from "../../shared/config";
import { TABLE_NAME } from "../../shared/table";

const RESTORED_STREAM =
  "arn:aws:dynamodb:eu-west-1:123456789012:table/cruddur-messages-restored/stream/2026-12-01T09:30:00.123";

const parse = (context: Partial<Record<ContextKey, unknown>>) =>
  parseSettings((key) => (context as Record<string, unknown>)[key]);

const rejects = (context: Partial<Record<ContextKey, unknown>>, key: ContextKey) => {
  expect(() => parse(context)).toThrow(ContextError);
  expect(() => parse(context)).toThrow(`"${key}"`);
};

describe("context options", () => {
  it("defaults to a new table, VPC and user pool, on-demand billing", () => {
    expect(parse({})).toEqual({
      tableName: TABLE_NAME,
      existingTable: undefined,
      billing: { mode: "on-demand" },
      network: { mode: "new-vpc" },
      userPool: { mode: "create", allowPasswordAuth: false },
      handleReservationDays: 30,
      sendLimits: { messagesPerMinute: 30, messageBurst: 10, newGroupsPerHour: 10 },
      corsOrigins: CONTEXT_DEFAULTS.corsOrigins,
      throttle: { rateLimit: CONTEXT_DEFAULTS.throttleRateLimit, burstLimit: CONTEXT_DEFAULTS.throttleBurstLimit },
      logRetention: RetentionDays.ONE_MONTH,
      alarmEmail: undefined,
    });
  });

  it("reads command-line strings and cdk.json values alike", () => {
    const fromCli = parse({
      tableName: "team-messages",
      billingMode: "provisioned",
      readCapacity: "10",
      writeCapacity: "4",
      placeInVpc: "true",
      vpcId: "vpc-0123456789abcdef0",
      userPoolId: "eu-west-1_AbC123",
      userPoolClientId: "1example23456789",
      handleReservationDays: "7",
      sendLimitPerMinute: "60",
      sendLimitBurst: "5",
      newGroupLimitPerHour: "3",
      corsOrigins: "https://app.example.com, http://localhost:3000",
      throttleRateLimit: "25.5",
      throttleBurstLimit: "50",
      logRetentionDays: "90",
      alarmEmail: "ops@example.com",
    });
    expect(fromCli).toEqual({
      tableName: "team-messages",
      existingTable: undefined,
      billing: { mode: "provisioned", readCapacity: 10, writeCapacity: 4 },
      network: { mode: "existing-vpc", vpcId: "vpc-0123456789abcdef0" },
      userPool: {
        mode: "existing",
        userPoolId: "eu-west-1_AbC123",
        userPoolClientId: "1example23456789",
        region: "eu-west-1",
      },
      handleReservationDays: 7,
      sendLimits: { messagesPerMinute: 60, messageBurst: 5, newGroupsPerHour: 3 },
      corsOrigins: ["https://app.example.com", "http://localhost:3000"],
      throttle: { rateLimit: 25.5, burstLimit: 50 },
      logRetention: RetentionDays.THREE_MONTHS,
      alarmEmail: "ops@example.com",
    });
    const fromJson = parse({
      billingMode: "provisioned",
      readCapacity: 10,
      placeInVpc: false,
      corsOrigins: ["https://app.example.com"],
      allowPasswordAuth: true,
      handleReservationDays: 0,
    });
    expect(fromJson.userPool).toEqual({ mode: "create", allowPasswordAuth: true });
    expect(fromJson.handleReservationDays).toBe(0);
    expect(fromJson.billing).toEqual({ mode: "provisioned", readCapacity: 10, writeCapacity: 5 });
    expect(fromJson.network).toEqual({ mode: "none" });
    expect(fromJson.corsOrigins).toEqual(["https://app.example.com"]);
  });

  it("turns plain password auth on only when asked, for a pool the stack creates", () => {
    expect(parse({ allowPasswordAuth: "true" }).userPool).toEqual({ mode: "create", allowPasswordAuth: true });
    expect(parse({ allowPasswordAuth: "false" }).userPool).toEqual({ mode: "create", allowPasswordAuth: false });
    expect(parse({ allowPasswordAuth: "" }).userPool).toEqual({ mode: "create", allowPasswordAuth: false });
    // An existing pool's client is never changed by the stack: only "not set" or false fit it.
    const existing = { userPoolId: "eu-west-1_AbC123", userPoolClientId: "1example23456789" };
    expect(parse({ ...existing, allowPasswordAuth: false }).userPool.mode).toBe("existing");
    rejects({ ...existing, allowPasswordAuth: "true" }, "allowPasswordAuth");
  });

  it("defaults the handle reservation to what the functions assume without HANDLE_RESERVATION_DAYS", () => {
    const days = parse({}).handleReservationDays;
    expect(days).toBe(CONTEXT_DEFAULTS.handleReservationDays);
    expect(loadConfig({ TABLE_NAME: "t", AWS_REGION: "eu-west-1" }).handleReservationMs).toBe(days * 86_400_000);
  });

  it("accepts '*' alone as CORS origin", () => {
    expect(parse({ corsOrigins: "*" }).corsOrigins).toEqual(["*"]);
    rejects({ corsOrigins: "*,https://app.example.com" }, "corsOrigins");
  });

  it("uses an existing table (a restored one) given its stream ARN, its name from the ARN or tableName", () => {
    const existingTable = { streamArn: RESTORED_STREAM, region: "eu-west-1", account: "123456789012" };
    expect(parse({ tableStreamArn: RESTORED_STREAM })).toMatchObject({
      tableName: "cruddur-messages-restored",
      existingTable,
    });
    expect(parse({ tableName: "cruddur-messages-restored", tableStreamArn: RESTORED_STREAM })).toMatchObject({
      tableName: "cruddur-messages-restored",
      existingTable,
    });
  });

  it.each<[Partial<Record<ContextKey, unknown>>, ContextKey]>([
    [{ tableName: "ab" }, "tableName"],
    [{ tableStreamArn: "arn:aws:dynamodb:eu-west-1:123456789012:table/t" }, "tableStreamArn"],
    [{ tableStreamArn: "cruddur-messages-restored" }, "tableStreamArn"],
    [{ tableName: "other-table", tableStreamArn: RESTORED_STREAM }, "tableStreamArn"],
    [{ tableStreamArn: RESTORED_STREAM, billingMode: "provisioned" }, "billingMode"],
    [{ tableName: "bad name" }, "tableName"],
    [{ billingMode: "PAY_PER_REQUEST" }, "billingMode"],
    [{ readCapacity: "5" }, "readCapacity"],
    [{ billingMode: "provisioned", writeCapacity: "0" }, "writeCapacity"],
    [{ billingMode: "provisioned", readCapacity: "2.5" }, "readCapacity"],
    [{ vpcId: "my-vpc" }, "vpcId"],
    [{ placeInVpc: "yes" }, "placeInVpc"],
    [{ placeInVpc: "false", vpcId: "vpc-0123456789abcdef0" }, "vpcId"],
    [{ userPoolId: "eu-west-1_AbC123" }, "userPoolClientId"],
    [{ userPoolClientId: "1example23456789" }, "userPoolId"],
    [{ userPoolId: "AbC123", userPoolClientId: "1example23456789" }, "userPoolId"],
    [{ userPoolId: "eu-west-1_AbC123", userPoolClientId: "not a client" }, "userPoolClientId"],
    [{ corsOrigins: "https://app.example.com/" }, "corsOrigins"],
    [{ corsOrigins: "app.example.com" }, "corsOrigins"],
    [{ corsOrigins: "ftp://app.example.com" }, "corsOrigins"],
    [{ corsOrigins: " , " }, "corsOrigins"],
    [{ throttleRateLimit: "fast" }, "throttleRateLimit"],
    [{ throttleRateLimit: "0" }, "throttleRateLimit"],
    [{ throttleBurstLimit: "1.5" }, "throttleBurstLimit"],
    [{ logRetentionDays: "10" }, "logRetentionDays"],
    [{ logRetentionDays: "9999" }, "logRetentionDays"],
    [{ alarmEmail: "ops" }, "alarmEmail"],
    [{ allowPasswordAuth: "yes" }, "allowPasswordAuth"],
    [{ allowPasswordAuth: 1 }, "allowPasswordAuth"],
    [{ handleReservationDays: "-1" }, "handleReservationDays"],
    [{ handleReservationDays: "1.5" }, "handleReservationDays"],
    [{ handleReservationDays: "a month" }, "handleReservationDays"],
    [{ handleReservationDays: "3651" }, "handleReservationDays"],
    [{ sendLimitPerMinute: "0" }, "sendLimitPerMinute"],
    [{ sendLimitBurst: "2.5" }, "sendLimitBurst"],
    [{ newGroupLimitPerHour: "many" }, "newGroupLimitPerHour"],
  ])("rejects %j, naming %s", (context, key) => {
    rejects(context, key);
  });
});
