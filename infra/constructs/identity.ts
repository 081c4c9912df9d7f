/**
 * The Cognito user pool and web app client the API trusts, built from `shared/user-pool.ts`;
 * or an existing pool and client passed by context, for teams that already have users.
 */
import { Duration, RemovalPolicy, Stack, Validations } from "aws-cdk-lib";
import {
  AccountRecovery,
  type AuthFlow,
  FeaturePlan,
  type IUserPool,
  type IUserPoolClient,
  Mfa,
  type StandardAttributes,
  UserPool,
  UserPoolClient,
} from "aws-cdk-lib/aws-cognito";
import { Construct } from "constructs";
import {
  CLIENT_AUTH_FLOWS,
  type LOCAL_CLIENT_AUTH_FLOWS,
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

/** The user pool and app client, created or imported. */
export class Identity extends Construct {
  readonly userPool: IUserPool;
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

    const authFlows: AuthFlow = {};
    for (const flow of CLIENT_AUTH_FLOWS) {
      const key = AUTH_FLOW_KEYS[flow];
      if (key !== undefined) Object.assign(authFlows, { [key]: true });
    }
    this.userPoolClient = pool.addClient("WebClient", {
      userPoolClientName: USER_POOL_CLIENT_NAME,
      generateSecret: false,
      authFlows,
      // No hosted UI / OAuth: a pool with a domain cannot be reached through the VPC endpoint.
      disableOAuth: true,
      preventUserExistenceErrors: true,
      enableTokenRevocation: true,
      accessTokenValidity: Duration.minutes(TOKEN_VALIDITY.accessTokenMinutes),
      idTokenValidity: Duration.minutes(TOKEN_VALIDITY.idTokenMinutes),
      refreshTokenValidity: Duration.days(TOKEN_VALIDITY.refreshTokenDays),
    });
  }

  /** The JWT issuer of the pool's tokens: `https://cognito-idp.<region>.amazonaws.com/<poolId>`. */
  get issuerUrl(): string {
    return `https://cognito-idp.${this.region}.amazonaws.com/${this.userPool.userPoolId}`;
  }
}
