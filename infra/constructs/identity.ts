/**
 * The Cognito user pool and web app client the API trusts, built from `shared/user-pool.ts`;
 * or an existing pool and client passed by context, for teams that already have users. Also
 * where the sign-up triggers (`TRIGGER_FUNCTIONS` of `shared/routes.ts`) meet the pool.
 */
import { Duration, RemovalPolicy, Stack, Validations } from "aws-cdk-lib";
import {
  AccountRecovery,
  type AuthFlow,
  ClientAttributes,
  FeaturePlan,
  type IUserPool,
  type IUserPoolClient,
  Mfa,
  type StandardAttributes,
  type StandardAttributesMask,
  UserPool,
  UserPoolClient,
  UserPoolOperation,
} from "aws-cdk-lib/aws-cognito";
import { ServicePrincipal } from "aws-cdk-lib/aws-iam";
import type { IFunction } from "aws-cdk-lib/aws-lambda";
import { Construct } from "constructs";
import type { TRIGGER_FUNCTIONS } from "../../shared/routes";
import {
  CLIENT_AUTH_FLOWS,
  type LOCAL_CLIENT_AUTH_FLOWS,
  PASSWORD_AUTH_FLOW,
  PASSWORD_POLICY,
  REQUIRED_ATTRIBUTES,
  TOKEN_VALIDITY,
  USER_POOL_CLIENT_NAME,
  USER_POOL_NAME,
} from "../../shared/user-pool";
import type { UserPoolSettings } from "../context";

/** The CDK name of each required standard attribute (Cognito name -> `StandardAttributes` key). */
const STANDARD_ATTRIBUTE_KEYS: Record<(typeof REQUIRED_ATTRIBUTES)[number], keyof StandardAttributes> = {
  preferred_username: "preferredUsername",
  name: "fullname",
  email: "email",
};

/** The `StandardAttributesMask` key of each required attribute (for the client's write attributes). */
const ATTRIBUTE_MASK_KEYS: Record<(typeof REQUIRED_ATTRIBUTES)[number], keyof StandardAttributesMask> = {
  preferred_username: "preferredUsername",
  name: "fullname",
  email: "email",
};

/**
 * The attributes the web client may write, at SignUp and with UpdateUserAttributes alike: the
 * required attributes, and nothing else.
 *
 * A client's write attributes govern SignUp too (Cognito answers NotAuthorizedException "A client
 * attempted to write unauthorized attribute"), and "required attributes in a user pool are always
 * writable" (Cognito developer guide, "Working with user attributes" > "Attribute permissions and
 * scopes"). The Cruddur frontend signs up with exactly these three (e-mail, `preferred_username`,
 * `name`), so they stay writable; the directory ignores any later change of them (issue 9). Every
 * other standard attribute, which the frontend never sets, is no longer writable by users.
 */
export const CLIENT_WRITE_ATTRIBUTES: readonly (typeof REQUIRED_ATTRIBUTES)[number][] = [...REQUIRED_ATTRIBUTES];

/** A Cognito trigger the stack attaches (`TRIGGER_FUNCTIONS[].trigger`). */
export type TriggerName = (typeof TRIGGER_FUNCTIONS)[number]["trigger"];

/** The CDK `UserPoolOperation` of each trigger (CloudFormation `LambdaConfig.PreSignUp` / `.PostConfirmation`). */
export const TRIGGER_OPERATIONS: Record<TriggerName, UserPoolOperation> = {
  PreSignUp: UserPoolOperation.PRE_SIGN_UP,
  PostConfirmation: UserPoolOperation.POST_CONFIRMATION,
};

/** The service principal Cognito invokes trigger functions as. */
export const COGNITO_PRINCIPAL = "cognito-idp.amazonaws.com";

/**
 * The `AuthFlow` switch of each client auth flow. CDK adds ALLOW_REFRESH_TOKEN_AUTH whenever any
 * flow is enabled, so that one maps to no switch.
 */
const AUTH_FLOW_KEYS: Record<(typeof LOCAL_CLIENT_AUTH_FLOWS)[number], keyof AuthFlow | undefined> = {
  ALLOW_USER_SRP_AUTH: "userSrp",
  ALLOW_USER_PASSWORD_AUTH: "userPassword",
  ALLOW_REFRESH_TOKEN_AUTH: undefined,
};

export interface IdentityProps {
  settings: UserPoolSettings;
}

/**
 * The auth flows of the web client: SRP and refresh (CLIENT_AUTH_FLOWS), plus plain password
 * (PASSWORD_AUTH_FLOW) when `allowPasswordAuth` is set.
 */
export function clientAuthFlows(allowPasswordAuth: boolean): (typeof LOCAL_CLIENT_AUTH_FLOWS)[number][] {
  return allowPasswordAuth ? [...CLIENT_AUTH_FLOWS, PASSWORD_AUTH_FLOW] : [...CLIENT_AUTH_FLOWS];
}

/** The user pool and app client, created or imported. */
export class Identity extends Construct {
  readonly userPool: IUserPool;
  /** The pool when the stack created it (CloudFormation can change only a pool it owns). */
  private readonly ownPool: UserPool | undefined;
  readonly userPoolClient: IUserPoolClient;
  /** Region of the user pool (part of the JWT issuer). */
  readonly region: string;
  /** True when the stack created (and so owns) the pool. */
  readonly created: boolean;

  constructor(scope: Construct, id: string, props: IdentityProps) {
    super(scope, id);
    const { settings } = props;
    const stack = Stack.of(this);

    if (settings.mode === "existing") {
      this.region = settings.region;
      this.created = false;
      this.userPool = UserPool.fromUserPoolArn(
        this,
        "UserPool",
        stack.formatArn({
          service: "cognito-idp",
          region: settings.region,
          resource: "userpool",
          resourceName: settings.userPoolId,
        }),
      );
      this.userPoolClient = UserPoolClient.fromUserPoolClientId(this, "Client", settings.userPoolClientId);
      this.ownPool = undefined;
      return;
    }

    this.region = stack.region;
    this.created = true;
    const standardAttributes: Record<string, { required: boolean; mutable: boolean }> = {};
    for (const attribute of REQUIRED_ATTRIBUTES) {
      standardAttributes[STANDARD_ATTRIBUTE_KEYS[attribute]] = { required: true, mutable: true };
    }
    const pool = new UserPool(this, "UserPool", {
      userPoolName: USER_POOL_NAME,
      // Users sign up from the web frontend with their e-mail as user name (as Cruddur does);
      // their handle is `preferred_username` and their display name `name`.
      selfSignUpEnabled: true,
      signInAliases: { email: true },
      signInCaseSensitive: false,
      autoVerify: { email: true },
      keepOriginal: { email: true },
      standardAttributes: standardAttributes as StandardAttributes,
      passwordPolicy: {
        minLength: PASSWORD_POLICY.minimumLength,
        requireLowercase: PASSWORD_POLICY.requireLowercase,
        requireUppercase: PASSWORD_POLICY.requireUppercase,
        requireDigits: PASSWORD_POLICY.requireDigits,
        requireSymbols: PASSWORD_POLICY.requireSymbols,
        tempPasswordValidity: Duration.days(PASSWORD_POLICY.temporaryPasswordValidityDays),
      },
      mfa: Mfa.OPTIONAL,
      mfaSecondFactor: { otp: true, sms: false },
      accountRecovery: AccountRecovery.EMAIL_ONLY,
      featurePlan: FeaturePlan.ESSENTIALS,
      // The pool holds the users: like the table, it outlives the stack (docs/deploy.md, teardown).
      deletionProtection: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    Validations.of(pool).acknowledge(
      {
        id: "AwsSolutions-COG2",
        reason:
          "MFA is optional (TOTP) rather than required: the Cruddur web frontend signs users in with SRP and " +
          "has no MFA enrolment step; the strong password policy (COG1) applies to every user.",
      },
      {
        id: "AwsSolutions-COG8",
        reason:
          "The Essentials feature plan is used on purpose: the Plus plan (threat protection) is billed per monthly " +
          "active user, which a team deploying its own copy has to opt into knowingly.",
      },
    );
    this.userPool = pool;
    this.ownPool = pool;

    const authFlows: AuthFlow = {};
    for (const flow of clientAuthFlows(settings.allowPasswordAuth)) {
      const key = AUTH_FLOW_KEYS[flow];
      if (key !== undefined) Object.assign(authFlows, { [key]: true });
    }
    this.userPoolClient = pool.addClient("WebClient", {
      userPoolClientName: USER_POOL_CLIENT_NAME,
      generateSecret: false,
      authFlows,
      writeAttributes: new ClientAttributes().withStandardAttributes(
        Object.fromEntries(CLIENT_WRITE_ATTRIBUTES.map((a) => [ATTRIBUTE_MASK_KEYS[a], true])),
      ),
      // No hosted UI / OAuth: a pool with a domain cannot be reached through the VPC endpoint.
      disableOAuth: true,
      preventUserExistenceErrors: true,
      enableTokenRevocation: true,
      accessTokenValidity: Duration.minutes(TOKEN_VALIDITY.accessTokenMinutes),
      idTokenValidity: Duration.minutes(TOKEN_VALIDITY.idTokenMinutes),
      refreshTokenValidity: Duration.days(TOKEN_VALIDITY.refreshTokenDays),
    });
  }

  /**
   * Makes the pool invoke `fn` as its `trigger`.
   *
   * A pool the stack created gets the function in its LambdaConfig, and CDK grants Cognito
   * (`cognito-idp.amazonaws.com`, source ARN = the pool) `lambda:InvokeFunction` on it. An
   * imported pool cannot be changed by CloudFormation: the function gets the same invoke
   * permission, and an operator attaches it to the pool (docs/deploy.md, "Existing user pool").
   *
   * `fn` must not reference the pool (no USER_POOL_ID, no grant on it): the pool references the
   * function, so the reverse would be a circular dependency.
   * @returns true when the stack attached it, false when an operator must.
   */
  addTrigger(trigger: TriggerName, fn: IFunction): boolean {
    if (this.ownPool !== undefined) {
      this.ownPool.addTrigger(TRIGGER_OPERATIONS[trigger], fn);
      return true;
    }
    // The permission CDK's UserPool.addTrigger adds, for the imported pool.
    fn.addPermission(`${trigger}Cognito`, {
      principal: new ServicePrincipal(COGNITO_PRINCIPAL),
      action: "lambda:InvokeFunction",
      sourceArn: this.userPool.userPoolArn,
    });
    return false;
  }

  /** The JWT issuer of the pool's tokens: `https://cognito-idp.<region>.amazonaws.com/<poolId>`. */
  get issuerUrl(): string {
    return `https://cognito-idp.${this.region}.amazonaws.com/${this.userPool.userPoolId}`;
  }
}
