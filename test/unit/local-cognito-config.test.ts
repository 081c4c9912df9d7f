import { describe, expect, it } from "vitest";
import { cognitoLocalConfig, triggerFunctionsConfig } from "../../local/cognito-local";
import { LOCAL_CREDENTIALS } from "../../local/state";
import { TRIGGER_FUNCTIONS } from "../../shared/routes";

describe("cognito-local's config.json", () => {
  it("signs users in by username and, without triggers, configures no Lambda", () => {
    expect(cognitoLocalConfig()).toEqual({ UserPoolDefaults: { UsernameAttributes: [] } });
  });

  it("names each trigger function of TRIGGER_FUNCTIONS under its TriggerFunctions key", () => {
    expect(triggerFunctionsConfig()).toEqual({ PreSignUp: "pre-sign-up", PostConfirmation: "post-confirmation" });
    expect(Object.keys(triggerFunctionsConfig())).toHaveLength(TRIGGER_FUNCTIONS.length);
  });

  it("points cognito-local's Lambda client at the endpoint with the local credentials", () => {
    const config = cognitoLocalConfig({
      endpoint: "http://127.0.0.1:9231",
      region: "us-east-1",
      functions: triggerFunctionsConfig(),
    });
    expect(config).toEqual({
      UserPoolDefaults: { UsernameAttributes: [] },
      LambdaClient: { endpoint: "http://127.0.0.1:9231", region: "us-east-1", credentials: LOCAL_CREDENTIALS },
      TriggerFunctions: { PreSignUp: "pre-sign-up", PostConfirmation: "post-confirmation" },
    });
  });

  it("sets the issuer to the address clients connect to (cognito-local would use its HOST, e.g. 0.0.0.0)", () => {
    expect(cognitoLocalConfig(undefined, "http://127.0.0.1:9229")).toEqual({
      UserPoolDefaults: { UsernameAttributes: [] },
      TokenConfig: { IssuerDomain: "http://127.0.0.1:9229" },
    });
  });
});
