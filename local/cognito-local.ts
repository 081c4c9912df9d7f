/**
 * cognito-local as a child process, the user pool and app client on it (from
 * `shared/user-pool.ts`), and the seeded users.
 */
import { spawn } from "node:child_process";
import { mkdir, rm, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { join } from "node:path";
import {
  AdminCreateUserCommand,
  AdminGetUserCommand,
  AdminSetUserPasswordCommand,
  type CognitoIdentityProviderClient,
  CreateUserPoolClientCommand,
  CreateUserPoolCommand,
  ListUserPoolClientsCommand,
  ListUserPoolsCommand,
  UserNotFoundException,
} from "@aws-sdk/client-cognito-identity-provider";
import { TRIGGER_FUNCTIONS } from "../shared/routes";
import type { SeedUser } from "../shared/seed-data";
import {
  LOCAL_CLIENT_AUTH_FLOWS,
  PASSWORD_POLICY,
  REQUIRED_ATTRIBUTES,
  TOKEN_VALIDITY,
  USER_ATTRIBUTES,
  USER_POOL_CLIENT_NAME,
  USER_POOL_NAME,
} from "../shared/user-pool";
import { type ManagedProcess, manageProcess } from "./child-process";
import { LOCAL_CREDENTIALS } from "./clients";
import { httpUrl, type LocalHost, localHost } from "./settings";
import { waitFor } from "./wait";

export interface CognitoLocalOptions {
  port: number;
  /** Working directory of cognito-local; its data lives in `<dir>/.cognito`. */
  dir: string;
  /** Start from empty data (every pool and user of a previous run is gone). */
  fresh: boolean;
  /** Where cognito-local invokes its Lambda triggers; no triggers when absent. */
  triggers?: CognitoLocalTriggers | undefined;
  /** Where it listens, and the host of its issuer (default `localHost()`: env HOST, else 127.0.0.1 only). */
  host?: LocalHost;
}

/** cognito-local's Lambda triggers: its `LambdaClient` and `TriggerFunctions` config. */
export interface CognitoLocalTriggers {
  /** URL of the Lambda Invoke endpoint (`local/lambda-invoke.ts`), e.g. `http://127.0.0.1:9231`. */
  endpoint: string;
  region: string;
  /** Function name by `TriggerFunctions` key, e.g. `{ PreSignUp: "pre-sign-up" }`. */
  functions: Readonly<Record<string, string>>;
}

/** The `TriggerFunctions` of TRIGGER_FUNCTIONS (shared/routes.ts): trigger key -> function name `fn`. */
export function triggerFunctionsConfig(): Record<string, string> {
  return Object.fromEntries(TRIGGER_FUNCTIONS.map((t) => [t.trigger, t.fn]));
}

/**
 * The content of cognito-local's `.cognito/config.json` (merged over its defaults when it
 * starts): new pools sign users in by username (the handle), not by e-mail; with `triggers`,
 * its aws-sdk v2 Lambda client calls `triggers.endpoint` with the local credentials and invokes
 * `triggers.functions` (cognito-local fires PreSignUp on SignUp only, and PostConfirmation on
 * ConfirmSignUp, AdminConfirmSignUp and ConfirmForgotPassword).
 */
export function cognitoLocalConfig(triggers?: CognitoLocalTriggers, issuerDomain?: string): Record<string, unknown> {
  return {
    UserPoolDefaults: { UsernameAttributes: [] },
    ...(issuerDomain === undefined ? {} : { TokenConfig: { IssuerDomain: issuerDomain } }),
    ...(triggers === undefined
      ? {}
      : {
          LambdaClient: {
            endpoint: triggers.endpoint,
            region: triggers.region,
            credentials: { ...LOCAL_CREDENTIALS },
          },
          TriggerFunctions: { ...triggers.functions },
        }),
  };
}

/** The bin script of the installed cognito-local package. */
function cognitoLocalBin(): string {
  const require = createRequire(import.meta.url);
  return join(require.resolve("cognito-local/package.json"), "..", "lib", "bin", "start.js");
}

/**
 * Starts cognito-local in its own process group. Writes `.cognito/config.json` first (see
 * {@link cognitoLocalConfig}), on every start, since cognito-local reads it once when it starts
 * and the trigger endpoint's port may differ from the previous run's.
 *
 * cognito-local listens on env `HOST` (its `ServerConfig.hostname`, default `localhost`), and
 * makes its issuer `http://<HOST>:<PORT>` unless `TokenConfig.IssuerDomain` says otherwise
 * (cognito-local 5, `lib/server/config.js`). So HOST gets the listen address, and the issuer is
 * set to the address clients connect to ({@link cognitoLocalIssuer}), also when HOST is `0.0.0.0`.
 */
export async function startCognitoLocal(options: CognitoLocalOptions): Promise<ManagedProcess> {
  const dataDir = join(options.dir, ".cognito");
  if (options.fresh) await rm(dataDir, { recursive: true, force: true });
  await mkdir(dataDir, { recursive: true });
  const host = options.host ?? localHost();
  const config = cognitoLocalConfig(options.triggers, httpUrl(host.connect, options.port));
  await writeFile(join(dataDir, "config.json"), `${JSON.stringify(config)}\n`);
  const child = spawn(process.execPath, [cognitoLocalBin()], {
    cwd: options.dir,
    env: { ...process.env, PORT: String(options.port), HOST: host.listen },
    detached: true,
    stdio: "pipe",
  });
  return manageProcess("cognito-local", "cognito-local", child);
}

/**
 * Waits until cognito-local answers ListUserPools through `client` (give it `maxAttempts: 1` so
 * that each probe fails fast while the port is still closed).
 * @throws Error when the process exits first or it does not answer within 30 s.
 */
export async function waitForCognito(client: CognitoIdentityProviderClient, process: ManagedProcess): Promise<void> {
  await waitFor("cognito-local", () => client.send(new ListUserPoolsCommand({ MaxResults: 1 })), {
    giveUpIf: () => (process.hasExited() ? `exited: ${process.outputTail()}` : undefined),
  });
}

export interface UserPoolIds {
  userPoolId: string;
  userPoolClientId: string;
}

/**
 * The pool {@link USER_POOL_NAME} and its client {@link USER_POOL_CLIENT_NAME}: reused when they
 * exist (a persisted run), else created like the CDK stack creates them (password policy,
 * required attributes, no client secret, the auth flows of LOCAL_CLIENT_AUTH_FLOWS).
 */
export async function ensureUserPool(client: CognitoIdentityProviderClient): Promise<UserPoolIds> {
  const pools = await client.send(new ListUserPoolsCommand({ MaxResults: 60 }));
  let userPoolId = pools.UserPools?.find((p) => p.Name === USER_POOL_NAME)?.Id;
  if (userPoolId === undefined) {
    const created = await client.send(
      new CreateUserPoolCommand({
        PoolName: USER_POOL_NAME,
        Policies: {
          PasswordPolicy: {
            MinimumLength: PASSWORD_POLICY.minimumLength,
            RequireLowercase: PASSWORD_POLICY.requireLowercase,
            RequireUppercase: PASSWORD_POLICY.requireUppercase,
            RequireNumbers: PASSWORD_POLICY.requireDigits,
            RequireSymbols: PASSWORD_POLICY.requireSymbols,
            TemporaryPasswordValidityDays: PASSWORD_POLICY.temporaryPasswordValidityDays,
          },
        },
        Schema: REQUIRED_ATTRIBUTES.map((Name) => ({ Name, Required: true, Mutable: true })),
      }),
    );
    userPoolId = created.UserPool?.Id;
    if (userPoolId === undefined) throw new Error("cognito-local: CreateUserPool returned no pool id");
  }
  const clients = await client.send(new ListUserPoolClientsCommand({ UserPoolId: userPoolId, MaxResults: 60 }));
  let userPoolClientId = clients.UserPoolClients?.find((c) => c.ClientName === USER_POOL_CLIENT_NAME)?.ClientId;
  if (userPoolClientId === undefined) {
    const created = await client.send(
      new CreateUserPoolClientCommand({
        UserPoolId: userPoolId,
        ClientName: USER_POOL_CLIENT_NAME,
        GenerateSecret: false,
        ExplicitAuthFlows: [...LOCAL_CLIENT_AUTH_FLOWS],
        AccessTokenValidity: TOKEN_VALIDITY.accessTokenMinutes,
        IdTokenValidity: TOKEN_VALIDITY.idTokenMinutes,
        RefreshTokenValidity: TOKEN_VALIDITY.refreshTokenDays,
        TokenValidityUnits: { AccessToken: "minutes", IdToken: "minutes", RefreshToken: "days" },
      }),
    );
    userPoolClientId = created.UserPoolClient?.ClientId;
    if (userPoolClientId === undefined) throw new Error("cognito-local: CreateUserPoolClient returned no client id");
  }
  return { userPoolId, userPoolClientId };
}

/**
 * Creates the user (username = handle) unless it exists (preferred_username = handle, name = display name, email),
 * then sets its password, permanent, so it can sign in at once.
 * @returns the user's `sub` (its uuid).
 * @throws Error when the user has no `sub`.
 */
export async function ensureUser(
  client: CognitoIdentityProviderClient,
  userPoolId: string,
  user: SeedUser,
): Promise<string> {
  const getSub = async () => {
    const out = await client.send(new AdminGetUserCommand({ UserPoolId: userPoolId, Username: user.handle }));
    return out.UserAttributes?.find((a) => a.Name === USER_ATTRIBUTES.uuid)?.Value;
  };
  let sub: string | undefined;
  try {
    sub = await getSub();
  } catch (error) {
    if (!(error instanceof UserNotFoundException)) throw error;
    await client.send(
      new AdminCreateUserCommand({
        UserPoolId: userPoolId,
        Username: user.handle,
        MessageAction: "SUPPRESS",
        UserAttributes: [
          { Name: USER_ATTRIBUTES.handle, Value: user.handle },
          { Name: USER_ATTRIBUTES.display_name, Value: user.display_name },
          { Name: "email", Value: user.email },
          { Name: "email_verified", Value: "true" },
        ],
      }),
    );
    sub = await getSub();
  }
  await client.send(
    new AdminSetUserPasswordCommand({
      UserPoolId: userPoolId,
      Username: user.handle,
      Password: user.password,
      Permanent: true,
    }),
  );
  if (sub === undefined) throw new Error(`cognito-local: user ${user.handle} has no sub`);
  return sub;
}
