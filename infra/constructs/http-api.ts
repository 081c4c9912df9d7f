/**
 * The HTTP API (API Gateway v2) built from the shared route table: one route per entry of
 * ROUTES, each integrated with its function and, when the entry says `auth: true`, guarded by a
 * JWT authorizer that trusts the user pool's tokens (the public profile route has none); CORS for
 * the frontend's origins; stage throttling plus the routes' own; JSON access logs.
 */
import { Duration, RemovalPolicy, Stack, Validations } from "aws-cdk-lib";
import { AccessLogFormat } from "aws-cdk-lib/aws-apigateway";
import {
  type CfnStage,
  CorsHttpMethod,
  HttpApi,
  HttpMethod,
  HttpNoneAuthorizer,
  type HttpRoute,
  HttpStage,
  LogGroupLogDestination,
  PayloadFormatVersion,
} from "aws-cdk-lib/aws-apigatewayv2";
import { HttpJwtAuthorizer } from "aws-cdk-lib/aws-apigatewayv2-authorizers";
import { HttpLambdaIntegration } from "aws-cdk-lib/aws-apigatewayv2-integrations";
import type { IFunction } from "aws-cdk-lib/aws-lambda";
import { LogGroup, type RetentionDays } from "aws-cdk-lib/aws-logs";
import { Construct } from "constructs";
import { CORS } from "../../shared/api-contract";
import type { RouteDefinition } from "../../shared/routes";

/**
 * One JSON object per request in the access log. Keys are what the saved Logs Insights queries
 * filter on; numbers are left unquoted so that Insights compares them as numbers.
 */
export const ACCESS_LOG_FIELDS = {
  requestId: "$context.requestId",
  requestTime: "$context.requestTime",
  ip: "$context.identity.sourceIp",
  routeKey: "$context.routeKey",
  status: "$context.status",
  responseLatency: "$context.responseLatency",
  integrationLatency: "$context.integrationLatency",
  responseLength: "$context.responseLength",
  integrationError: "$context.integrationErrorMessage",
  authorizerError: "$context.authorizer.error",
  sub: "$context.authorizer.claims.sub",
  userAgent: "$context.identity.userAgent",
} as const;

/** Access log fields rendered as JSON numbers (always present, always numeric). */
const NUMERIC_ACCESS_LOG_FIELDS: ReadonlySet<keyof typeof ACCESS_LOG_FIELDS> = new Set(["status", "responseLatency"]);

/** The access log line format: a JSON object of {@link ACCESS_LOG_FIELDS}. */
export function accessLogFormat(): string {
  const parts = Object.entries(ACCESS_LOG_FIELDS).map(([key, variable]) =>
    NUMERIC_ACCESS_LOG_FIELDS.has(key as keyof typeof ACCESS_LOG_FIELDS)
      ? `"${key}":${variable}`
      : `"${key}":"${variable}"`,
  );
  return `{${parts.join(",")}}`;
}

/** Requests per second (steady) and burst, as API Gateway throttles them. */
export interface Throttle {
  rateLimit: number;
  burstLimit: number;
}

/** The route key API Gateway names a route by: `<METHOD> <path>`. */
export function routeKey(route: Pick<RouteDefinition, "method" | "path">): string {
  return `${route.method} ${route.path}`;
}

/**
 * The throttle of a route with its own: never above the stage's. Route settings replace the
 * stage's default route settings for that route (API Gateway developer guide, "Throttling
 * requests to your HTTP API", route-level throttling), so a lower stage limit must still bind it.
 */
export function routeThrottle(own: Throttle, stage: Throttle): Throttle {
  return {
    rateLimit: Math.min(own.rateLimit, stage.rateLimit),
    burstLimit: Math.min(own.burstLimit, stage.burstLimit),
  };
}

export interface MessagesApiProps {
  routes: readonly RouteDefinition[];
  /** The function of each route, by `fn`. */
  functions: ReadonlyMap<string, IFunction>;
  /** JWT issuer: `https://cognito-idp.<region>.amazonaws.com/<poolId>`. */
  issuerUrl: string;
  /** App client id: the token's `aud` (ID tokens) or `client_id` (access tokens) must match it. */
  audience: string;
  corsOrigins: string[];
  /** Stage-wide throttle, the default of every route. */
  throttle: Throttle;
  logRetention: RetentionDays;
}

/** The HTTP API, its `$default` stage and its access log group. */
export class MessagesApi extends Construct {
  readonly api: HttpApi;
  readonly stage: HttpStage;
  readonly accessLogGroup: LogGroup;
  readonly authorizer: HttpJwtAuthorizer;
  /** The API Gateway route of each entry of ROUTES, by route key (`GET /api/...`). */
  readonly routes: ReadonlyMap<string, HttpRoute>;

  constructor(scope: Construct, id: string, props: MessagesApiProps) {
    super(scope, id);
    const methods = [...new Set(props.routes.map((r) => r.method))];

    this.api = new HttpApi(this, "Api", {
      apiName: Stack.of(this).stackName,
      description: "cruddur-messages HTTP API",
      createDefaultStage: false,
      corsPreflight: {
        allowOrigins: props.corsOrigins,
        allowMethods: [...methods.map((m) => CorsHttpMethod[m]), CorsHttpMethod.OPTIONS],
        allowHeaders: [...CORS.allowHeaders],
        exposeHeaders: [...CORS.exposeHeaders],
        allowCredentials: false,
        maxAge: Duration.seconds(CORS.maxAgeSeconds),
      },
    });

    this.accessLogGroup = new LogGroup(this, "AccessLogs", {
      retention: props.logRetention,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.stage = new HttpStage(this, "DefaultStage", {
      httpApi: this.api,
      stageName: "$default",
      autoDeploy: true,
      throttle: props.throttle,
      accessLogSettings: {
        destination: new LogGroupLogDestination(this.accessLogGroup),
        format: AccessLogFormat.custom(accessLogFormat()),
      },
    });

    this.authorizer = new HttpJwtAuthorizer("CognitoJwt", props.issuerUrl, {
      jwtAudience: [props.audience],
      identitySource: ["$request.header.Authorization"],
    });

    const routes = new Map<string, HttpRoute>();
    const routeSettings: Record<string, { ThrottlingRateLimit: number; ThrottlingBurstLimit: number }> = {};
    for (const route of props.routes) {
      const fn = props.functions.get(route.fn);
      if (fn === undefined) throw new Error(`no function for route ${route.method} ${route.path} (${route.fn})`);
      const key = routeKey(route);
      const [added] = this.api.addRoutes({
        path: route.path,
        methods: [HttpMethod[route.method]],
        integration: new HttpLambdaIntegration(`${route.fn}-integration`, fn, {
          payloadFormatVersion: PayloadFormatVersion.VERSION_2_0,
        }),
        // OPTIONS is answered by CORS. A public route says so explicitly (AuthorizationType NONE),
        // so that a default authorizer added to the API later could not change it unnoticed.
        authorizer: route.auth ? this.authorizer : new HttpNoneAuthorizer(),
      });
      if (added === undefined) throw new Error(`no route created for ${key}`);
      routes.set(key, added);
      if (!route.auth) {
        Validations.of(added).acknowledge({
          id: "AwsSolutions-APIG4",
          reason:
            `${key} is public on purpose: the Cruddur frontend's new-message page calls it without a token ` +
            "(as the original Flask backend allowed) to show a user's public profile {uuid, handle, display_name}. " +
            "Its function may only GetItem on the table (the directory) and answers nothing private; the route " +
            "has its own low throttle.",
        });
      }
      if (route.throttle !== undefined) {
        const throttle = routeThrottle(route.throttle, props.throttle);
        routeSettings[key] = { ThrottlingRateLimit: throttle.rateLimit, ThrottlingBurstLimit: throttle.burstLimit };
        // A stage's route settings name routes by key: the route must exist before the stage
        // (CloudFormation otherwise fails with "Unable to find Route by key").
        this.stage.node.addDependency(added);
      }
    }
    this.routes = routes;
    // HttpStage has no per-route settings: set them on the CloudFormation stage.
    if (Object.keys(routeSettings).length > 0) {
      (this.stage.node.defaultChild as CfnStage).routeSettings = routeSettings;
    }
  }

  /** Base URL of the API (no trailing slash); routes are `<url>/api/...`. */
  get url(): string {
    return this.api.apiEndpoint;
  }
}
