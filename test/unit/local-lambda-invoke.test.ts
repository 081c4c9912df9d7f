import { createRequire } from "node:module";
import type { Context } from "aws-lambda";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import type { InvokableHandler } from "../../local/functions";
import {
  functionErrorPayload,
  functionNameOf,
  invokeTarget,
  type LambdaInvokeEndpoint,
  startLambdaInvokeEndpoint,
} from "../../local/lambda-invoke";
import { LOCAL_CREDENTIALS } from "../../local/state";
import { SignUpRefused } from "../../shared/sign-up";

const quiet = { debug() {}, info() {}, warn() {}, error() {} };
const invocations: { event: unknown; context: Context }[] = [];

/** Answers its event with `response.autoConfirmUser` set, as a trigger answers its event. */
const echo: InvokableHandler = async (event, context) => {
  invocations.push({ event, context });
  return { ...(event as object), response: { autoConfirmUser: false, seen: true } };
};
const refusing: InvokableHandler = async () => {
  throw new SignUpRefused(["handle_taken"]);
};
const HANDLERS = new Map<string, InvokableHandler>([
  ["pre-sign-up", echo],
  ["refusing", refusing],
]);

const invoke = (endpoint: LambdaInvokeEndpoint, name: string, init: RequestInit = {}) =>
  fetch(`${endpoint.url}/2015-03-31/functions/${encodeURIComponent(name)}/invocations`, { method: "POST", ...init });

describe("functionNameOf", () => {
  it.each([
    ["pre-sign-up", "pre-sign-up"],
    ["pre-sign-up:$LATEST", "pre-sign-up"],
    ["000000000000:function:pre-sign-up", "pre-sign-up"],
    ["arn:aws:lambda:us-east-1:000000000000:function:pre-sign-up", "pre-sign-up"],
    ["arn:aws:lambda:us-east-1:000000000000:function:pre-sign-up:live", "pre-sign-up"],
  ])("%s -> %s", (given, name) => {
    expect(functionNameOf(given)).toBe(name);
  });
});

describe("invokeTarget", () => {
  it("reads the FunctionName of POST /2015-03-31/functions/<name>/invocations only", () => {
    expect(invokeTarget("POST", "/2015-03-31/functions/pre-sign-up/invocations")).toBe("pre-sign-up");
    expect(invokeTarget("POST", "/2015-03-31/functions/a%3Ab/invocations?Qualifier=x")).toBe("a:b");
    expect(invokeTarget("GET", "/2015-03-31/functions/pre-sign-up/invocations")).toBeUndefined();
    expect(invokeTarget("POST", "/2015-03-31/functions/pre-sign-up")).toBeUndefined();
    expect(invokeTarget("POST", "/2015-03-31/functions/%E0%A4%A/invocations")).toBeUndefined();
  });
});

describe("functionErrorPayload", () => {
  it("reports a thrown error as the Node.js runtime does", () => {
    const payload = functionErrorPayload(new SignUpRefused(["handle_taken"]));
    expect(payload.errorType).toBe("SignUpRefused");
    expect(payload.errorMessage).toMatch(/^handle_taken: /);
    expect(payload.trace[0]).toMatch(/^SignUpRefused: handle_taken/);
    expect(functionErrorPayload("nope")).toEqual({ errorType: "string", errorMessage: "nope", trace: [] });
  });
});

describe("local Lambda Invoke endpoint", () => {
  let endpoint: LambdaInvokeEndpoint;
  beforeAll(async () => {
    endpoint = await startLambdaInvokeEndpoint({ port: 0, handlers: HANDLERS, region: "us-east-1", logger: quiet });
  });
  afterAll(async () => {
    await endpoint.close();
  });

  it("listens on 127.0.0.1", () => {
    expect(endpoint.url).toBe(`http://127.0.0.1:${endpoint.port}`);
  });

  it("runs the handler with the JSON payload and a Lambda context, and answers its result", async () => {
    const response = await invoke(endpoint, "pre-sign-up", {
      headers: { "x-amz-invocation-type": "RequestResponse" },
      body: JSON.stringify({ triggerSource: "PreSignUp_SignUp" }),
    });
    expect(response.status).toBe(200);
    expect(response.headers.get("x-amz-function-error")).toBeNull();
    expect(response.headers.get("x-amz-executed-version")).toBe("$LATEST");
    expect(response.headers.get("x-amzn-requestid")).toMatch(/^[0-9a-f-]{36}$/);
    expect(await response.json()).toEqual({
      triggerSource: "PreSignUp_SignUp",
      response: { autoConfirmUser: false, seen: true },
    });
    const { event, context } = invocations.at(-1) ?? {};
    expect(event).toEqual({ triggerSource: "PreSignUp_SignUp" });
    expect(context?.functionName).toBe("pre-sign-up");
    expect(context?.invokedFunctionArn).toBe("arn:aws:lambda:us-east-1:000000000000:function:pre-sign-up");
    expect(context?.awsRequestId).toBe(response.headers.get("x-amzn-requestid"));
  });

  it("invokes by ARN too, and with no InvocationType header (RequestResponse is the default)", async () => {
    const response = await invoke(endpoint, "arn:aws:lambda:us-east-1:000000000000:function:pre-sign-up", {
      body: "{}",
    });
    expect(response.status).toBe(200);
  });

  it("answers a thrown error as a function error: 200, X-Amz-Function-Error Unhandled, {errorType, errorMessage}", async () => {
    const response = await invoke(endpoint, "refusing", { body: "{}" });
    expect(response.status).toBe(200);
    expect(response.headers.get("x-amz-function-error")).toBe("Unhandled");
    const body = (await response.json()) as { errorType: string; errorMessage: string };
    expect(body.errorType).toBe("SignUpRefused");
    expect(body.errorMessage).toBe(new SignUpRefused(["handle_taken"]).message);
  });

  it("answers 404 ResourceNotFoundException for an unknown function", async () => {
    const response = await invoke(endpoint, "nope", { body: "{}" });
    expect(response.status).toBe(404);
    expect(response.headers.get("x-amzn-errortype")).toBe("ResourceNotFoundException");
    expect(await response.json()).toEqual({
      Type: "User",
      Message: "Function not found: arn:aws:lambda:us-east-1:000000000000:function:nope",
    });
  });

  it("answers 404 UnknownOperationException for another path or method", async () => {
    for (const [method, path] of [
      ["GET", "/2015-03-31/functions/pre-sign-up/invocations"],
      ["POST", "/2015-03-31/functions"],
    ] as const) {
      const response = await fetch(`${endpoint.url}${path}`, { method });
      expect(response.status).toBe(404);
      expect(response.headers.get("x-amzn-errortype")).toBe("UnknownOperationException");
    }
  });

  it("answers 400 InvalidRequestContentException for a payload that is not JSON, without invoking", async () => {
    const before = invocations.length;
    const response = await invoke(endpoint, "pre-sign-up", { body: "{not json" });
    expect(response.status).toBe(400);
    expect(response.headers.get("x-amzn-errortype")).toBe("InvalidRequestContentException");
    expect(invocations.length).toBe(before);
  });

  it("answers DryRun with 204 and Event (not emulated) with 400, without invoking", async () => {
    const before = invocations.length;
    const dry = await invoke(endpoint, "pre-sign-up", { headers: { "x-amz-invocation-type": "DryRun" }, body: "{}" });
    expect(dry.status).toBe(204);
    const event = await invoke(endpoint, "pre-sign-up", { headers: { "x-amz-invocation-type": "Event" }, body: "{}" });
    expect(event.status).toBe(400);
    expect(event.headers.get("x-amzn-errortype")).toBe("InvalidParameterValueException");
    expect(invocations.length).toBe(before);
  });
});

describe("the endpoint's ready gate", () => {
  it("holds invocations until ready resolves", async () => {
    let open: () => void = () => {};
    const ready = new Promise<void>((resolve) => (open = resolve));
    const ran: string[] = [];
    const held: string[] = [];
    const endpoint = await startLambdaInvokeEndpoint({
      port: 0,
      handlers: new Map([["f", async () => ran.push("f")]]),
      region: "us-east-1",
      logger: { ...quiet, debug: (message) => held.push(message) },
      ready,
    });
    try {
      const answer = invoke(endpoint, "f", { body: "{}" });
      // The sentinel: the endpoint says it holds the invocation (it has read it and waits).
      await vi.waitFor(() => expect(held).toEqual(["lambda invoke: held until the functions can run"]));
      expect(ran).toEqual([]);
      open();
      expect((await answer).status).toBe(200);
      expect(ran).toEqual(["f"]);
    } finally {
      await endpoint.close();
    }
  });

  it("answers 500 ServiceException when ready rejects, without invoking", async () => {
    const ran: string[] = [];
    const endpoint = await startLambdaInvokeEndpoint({
      port: 0,
      handlers: new Map([["f", async () => ran.push("f")]]),
      region: "us-east-1",
      logger: quiet,
      ready: Promise.reject(new Error("table setup failed")),
    });
    try {
      const response = await invoke(endpoint, "f", { body: "{}" });
      expect(response.status).toBe(500);
      expect(response.headers.get("x-amzn-errortype")).toBe("ServiceException");
      expect(ran).toEqual([]);
    } finally {
      await endpoint.close();
    }
  });
});

/**
 * cognito-local's own trigger client: its LambdaService over the aws-sdk v2 `Lambda` client it
 * builds from `LambdaClient` of its config (lib/server/defaults.js), loaded from its package.
 */
interface CognitoLocalLambdaService {
  invoke(ctx: { logger: typeof quiet }, trigger: string, event: Record<string, unknown>): Promise<unknown>;
}
function cognitoLocalLambdaService(triggers: Record<string, string>, endpoint: string): CognitoLocalLambdaService {
  process.env.AWS_SDK_JS_SUPPRESS_MAINTENANCE_MODE_MESSAGE = "1";
  const fromCognitoLocal = createRequire(createRequire(import.meta.url).resolve("cognito-local/package.json"));
  const { LambdaService } = fromCognitoLocal("./lib/services/lambda.js") as {
    LambdaService: new (config: Record<string, string>, client: unknown) => CognitoLocalLambdaService;
  };
  const AWS = fromCognitoLocal("aws-sdk") as { Lambda: new (config: object) => unknown };
  return new LambdaService(
    triggers,
    new AWS.Lambda({ endpoint, region: "us-east-1", credentials: LOCAL_CREDENTIALS, maxRetries: 0 }),
  );
}

describe("cognito-local's trigger client against the endpoint", () => {
  let endpoint: LambdaInvokeEndpoint;
  const signUp = {
    clientId: "c-1",
    clientMetadata: undefined,
    triggerSource: "PreSignUp_SignUp",
    userAttributes: { preferred_username: "newbie", name: "New Bie" },
    username: "newbie",
    userPoolId: "local_pool",
    validationData: undefined,
  };
  beforeAll(async () => {
    endpoint = await startLambdaInvokeEndpoint({ port: 0, handlers: HANDLERS, region: "us-east-1", logger: quiet });
  });
  afterAll(async () => {
    await endpoint.close();
  });

  it("gets the trigger's response: the event it sent, with the answer's `response`", async () => {
    const service = cognitoLocalLambdaService({ PreSignUp: "pre-sign-up" }, endpoint.url);
    await expect(service.invoke({ logger: quiet }, "PreSignUp", signUp)).resolves.toEqual({
      autoConfirmUser: false,
      seen: true,
    });
    expect(invocations.at(-1)?.event).toMatchObject({
      triggerSource: "PreSignUp_SignUp",
      userName: "newbie",
      userPoolId: "local_pool",
      request: { userAttributes: { preferred_username: "newbie", name: "New Bie" } },
      response: { autoConfirmUser: false },
    });
  });

  it("turns a thrown SignUpRefused into UserLambdaValidationException with its message", async () => {
    const service = cognitoLocalLambdaService({ PreSignUp: "refusing" }, endpoint.url);
    const refused = service.invoke({ logger: quiet }, "PreSignUp", signUp);
    await expect(refused).rejects.toMatchObject({
      code: "UserLambdaValidationException",
      message: `refusing failed with error ${new SignUpRefused(["handle_taken"]).message}.`,
    });
  });

  it("turns an unknown function into UnexpectedLambdaExceptionException", async () => {
    const service = cognitoLocalLambdaService({ PreSignUp: "nope" }, endpoint.url);
    await expect(service.invoke({ logger: quiet }, "PreSignUp", signUp)).rejects.toMatchObject({
      code: "UnexpectedLambdaExceptionException",
    });
  });
});
