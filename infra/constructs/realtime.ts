/**
 * Real-time delivery in the cloud: one AWS AppSync Event API with the channel namespace `users`
 * (`shared/realtime.ts`), and the publish function on the table's stream (its own event-source
 * mapping, PUBLISH_DELIVERY), which pushes every new message to both members' channels.
 *
 * Authorization (AWS AppSync Events developer guide, "Configuring authorization and
 * authentication to secure Event APIs"):
 * - connect and subscribe: the Cognito user pool mode (AMAZON_COGNITO_USER_POOLS) with the web
 *   client's id as `appIdClientRegex`, so the same access tokens as the HTTP API's (AWS's own
 *   client, Amplify, sends the access token in this mode). The mode also takes the pool's ID
 *   tokens, so the namespace's onSubscribe handler refuses any token whose `token_use` is not
 *   `access`, and applies the one channel rule of `shared/realtime.ts` (`maySubscribe`):
 *   a caller may subscribe to `/users/<their sub>` and nothing else;
 * - publish: IAM only, on the namespace; only the publish function's role holds
 *   `appsync:EventPublish`, on this namespace only. No client has IAM credentials (the stack has
 *   no identity pool), so clients can never publish.
 */
import { Duration, RemovalPolicy, Stack, Validations } from "aws-cdk-lib";
import { AppSyncAuthorizationType, type CfnApi, ChannelNamespace, Code, EventApi } from "aws-cdk-lib/aws-appsync";
import type { IUserPool } from "aws-cdk-lib/aws-cognito";
import type { ITable } from "aws-cdk-lib/aws-dynamodb";
import { Role, ServicePrincipal } from "aws-cdk-lib/aws-iam";
import { LogGroup, type RetentionDays } from "aws-cdk-lib/aws-logs";
import { Construct } from "constructs";
import { CONFIG_ENV } from "../../shared/config";
import { EVENTS_NAMESPACE } from "../../shared/realtime";
import { PUBLISH_FUNCTION } from "../../shared/routes";
import { PUBLISH_DELIVERY } from "../../shared/stream";
import { type FunctionUserPool, MessagingFunction } from "./messaging-function";
import { streamEventSource } from "./stream-mapping";

/**
 * The namespace's onSubscribe handler (APPSYNC_JS), generated from {@link EVENTS_NAMESPACE}: the
 * rule of {@link maySubscribe} (the channel is exactly `/<namespace>/<sub>`, the sub non-empty
 * and free of `/` and `*`), plus the access-token check the Cognito mode does not make. Any
 * refusal is `util.unauthorized()` (the client gets `subscribe_error` Unauthorized). The unit
 * test runs this code against a table of cases and checks it agrees with `maySubscribe`.
 */
export const SUBSCRIBE_HANDLER_CODE = `import { util } from '@aws-appsync/utils';

export function onSubscribe(ctx) {
  const identity = ctx.identity || {};
  const claims = identity.claims || {};
  const sub = identity.sub;
  if (claims.token_use !== 'access') {
    util.unauthorized();
  }
  if (typeof sub !== 'string' || sub.length === 0 || sub.indexOf('/') !== -1 || sub.indexOf('*') !== -1) {
    util.unauthorized();
  }
  if (ctx.info.channel.path !== \`/${EVENTS_NAMESPACE}/\${sub}\`) {
    util.unauthorized();
  }
}
`;

/** The Event API's own log level: errors only (a line per refused or failed operation). */
export const EVENT_API_LOG_LEVEL = "ERROR";

export interface RealtimeProps {
  table: ITable;
  /** The pool whose access tokens connect and subscribe. */
  userPool: IUserPool;
  /** The app client whose tokens are taken (the web frontend's, as for the HTTP API). */
  userPoolClientId: string;
  /** The pool as the functions see it. */
  functionUserPool: FunctionUserPool;
  logRetention: RetentionDays;
}

/** The Event API, its `users` namespace and the publish function with its stream mapping. */
export class Realtime extends Construct {
  readonly api: EventApi;
  readonly namespace: ChannelNamespace;
  readonly publisher: MessagingFunction;
  /** The Event API's log group (`/aws/appsync/apis/<api id>`, as the service names it). */
  readonly apiLogGroup: LogGroup;
  /** `https://<http domain>`: POST `<httpUrl>/event` publishes (what the function is given). */
  readonly httpUrl: string;
  /** `wss://<realtime domain>/event/realtime`: where clients connect. */
  readonly realtimeUrl: string;

  constructor(scope: Construct, id: string, props: RealtimeProps) {
    super(scope, id);
    const stackName = Stack.of(this).stackName;

    this.api = new EventApi(this, "Api", {
      apiName: `${stackName}-events`.slice(0, 50),
      authorizationConfig: {
        authProviders: [
          {
            authorizationType: AppSyncAuthorizationType.USER_POOL,
            cognitoConfig: { userPool: props.userPool, appIdClientRegex: `^${props.userPoolClientId}$` },
          },
          { authorizationType: AppSyncAuthorizationType.IAM },
        ],
        connectionAuthModeTypes: [AppSyncAuthorizationType.USER_POOL],
        defaultSubscribeAuthModeTypes: [AppSyncAuthorizationType.USER_POOL],
        defaultPublishAuthModeTypes: [AppSyncAuthorizationType.IAM],
      },
    });
    this.httpUrl = `https://${this.api.httpDns}`;
    this.realtimeUrl = `wss://${this.api.realtimeDns}/event/realtime`;

    // The API's logs: our own log group (with the stack's retention) and a role that may write to
    // it only, instead of the L2's log retention custom resource and AWS managed policy.
    this.apiLogGroup = new LogGroup(this, "ApiLogs", {
      logGroupName: `/aws/appsync/apis/${this.api.apiId}`,
      retention: props.logRetention,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    const logsRole = new Role(this, "ApiLogsRole", {
      assumedBy: new ServicePrincipal("appsync.amazonaws.com"),
      description: "AppSync Events writes the Event API's logs",
    });
    this.apiLogGroup.grantWrite(logsRole);
    (this.api.node.defaultChild as CfnApi).addPropertyOverride("EventConfig.LogConfig", {
      CloudWatchLogsRoleArn: logsRole.roleArn,
      LogLevel: EVENT_API_LOG_LEVEL,
    });

    this.namespace = new ChannelNamespace(this, "Users", {
      api: this.api,
      channelNamespaceName: EVENTS_NAMESPACE,
      code: Code.fromInline(SUBSCRIBE_HANDLER_CODE),
      authorizationConfig: {
        publishAuthModeTypes: [AppSyncAuthorizationType.IAM],
        subscribeAuthModeTypes: [AppSyncAuthorizationType.USER_POOL],
      },
    });

    // The publish function runs outside the VPC: the VPC has no route to the internet and no
    // endpoint for AppSync Events; it reads the table over DynamoDB's public endpoint with its
    // role (one GetItem per group of a batch).
    this.publisher = new MessagingFunction(this, "Publish", {
      fn: PUBLISH_FUNCTION.fn,
      permissions: PUBLISH_FUNCTION.permissions,
      table: props.table,
      userPool: props.functionUserPool,
      placement: undefined,
      logRetention: props.logRetention,
      // A batch of up to PUBLISH_DELIVERY.batchSize records: requests side by side, each retried.
      timeout: Duration.minutes(1),
      environment: { [CONFIG_ENV.eventsHttpUrl]: this.httpUrl },
      description: "Stream push of new messages to the members' AppSync Events channels (real-time)",
    });
    this.namespace.grantPublish(this.publisher.role);

    // Its own mapping on the stream: the fan-out's (FanOut) is another one. No on-failure
    // destination: a push given up is useless later (clients read the message with pattern A/B);
    // it is counted (EventsNotDelivered), logged with its message_uuid, and alarmed on.
    this.publisher.function.addEventSource(streamEventSource(props.table, PUBLISH_DELIVERY));
    Validations.of(this.publisher.role).acknowledge({
      id: "AwsSolutions-IAM5[Resource::*]",
      reason:
        "The stream event source grants dynamodb:ListStreams, which supports no resource-level permission " +
        "(Service Authorization Reference, Amazon DynamoDB). Everything else on this role is scoped to the " +
        "table, its stream, the log group or the Event API's users namespace.",
    });
  }
}
