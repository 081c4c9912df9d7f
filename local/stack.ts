/**
 * The local stack: the local services (`local/services.ts`: DynamoDB Local, cognito-local, the
 * Lambda Invoke endpoint of the Cognito triggers, the table, the user pool, the seed, the AppSync
 * Events emulator), and on top
 * of them the functions: the route functions behind an emulated HTTP API with real JWT
 * verification, and the stream poller driving the fan-out.
 *
 * The functions read their configuration from `process.env` when loaded, so the stack sets the
 * environment of this process (and restores it on stop): one stack at a time per process.
 */
import { randomUUID } from "node:crypto";
import { join } from "node:path";
import { CONFIG_ENV } from "../shared/config";
import { API_DOCUMENT_PATHS, buildAsyncApiDocument, buildOpenApiDocument } from "../shared/openapi";
import { FAN_OUT_FUNCTION, PUBLISH_FUNCTION, ROUTES } from "../shared/routes";
import { PUBLISH_DELIVERY } from "../shared/stream";
import { loadFunctions } from "./functions";
import { type AnsweredRequest, startHttpApi } from "./http-api";
import { cognitoLocalIssuer, createAccessTokenVerifier } from "./jwt";
import { lambdaContext } from "./lambda-context";
import type { SeededUser } from "./seed";
import { type LocalServices, type LocalServicesOptions, startLocalServices } from "./services";
import { DEFAULT_FRONTEND_URL, DEFAULT_PORTS, envPort, FUNCTIONS_DIR, httpUrl, type LocalHost } from "./settings";
import { deadLetterFilePath, publishDeadLetterFilePath, type StackFile } from "./state";
import { StreamPoller } from "./stream-poller";
import { createTeardown } from "./teardown";
import { startWebServer, type WebServer } from "./web-server";

export interface LocalStackOptions extends Omit<LocalServicesOptions, "reservedPorts"> {
  /** HTTP API port (default env PORT, else 4567). */
  apiPort?: number;
  /** Port of the web client (default env WEB_PORT, else 4569). */
  webPort?: number;
  /** Keep the table, users and stream checkpoint under `stateDir` across restarts (default false). */
  persist?: boolean;
  /** Origin allowed by CORS (default env FRONTEND_URL, else http://localhost:3000). */
  frontendOrigin?: string;
  /** Sees every answer of the HTTP API before it is written (`HttpApiOptions.onAnswer`): the tests' contract check. */
  onApiAnswer?: (answer: AnsweredRequest) => void;
}

/** A running local stack: what a client needs, and `stop`. */
export interface LocalStack extends Omit<StackFile, "users"> {
  /** The seeded users (empty when not seeded). */
  users: SeededUser[];
  stateDir: string;
  /** Where its servers listen and how to reach them (`localHost()` unless given). */
  host: LocalHost;
  /** Process ids of the child processes (DynamoDB Local, cognito-local). */
  pids: number[];
  /**
   * URL of the Lambda Invoke endpoint that cognito-local calls for its triggers
   * (`http://127.0.0.1:<port>`). Not in `stack.json`: no client of the stack calls it.
   */
  lambdaEndpoint: string;
  /**
   * Resolves once the emulated API answers no request (see `HttpApi.idle`): the writes of
   * requests whose clients hung up have landed too.
   */
  idle(): Promise<void>;
  /**
   * Stops the API (after the answers in flight), the poller (after its batch in flight),
   * cognito-local, the Lambda Invoke endpoint of its triggers (after the invocations in flight)
   * and DynamoDB Local; restores `process.env`.
   */
  stop(): Promise<void>;
  /**
   * Resolves once the stack has stopped: after `stop()`, or after a child process exited on its
   * own (logged as an error; the rest of the stack is then stopped too).
   */
  done: Promise<void>;
}

/** The functions running on the local services. */
export interface LocalFunctions {
  /** `http://<host.connect>:<port>` of the emulated HTTP API (`http://127.0.0.1:4567` by default). */
  apiUrl: string;
  /** See {@link LocalStack.idle}. */
  idle(): Promise<void>;
  /**
   * Stops the API (after the answers in flight), then the poller (after its batch in flight).
   * Errors are logged, not thrown; calling it again waits for the first.
   */
  stop(): Promise<void>;
}

export interface LocalFunctionsOptions {
  /** HTTP API port. */
  apiPort: number;
  /** Origin(s) allowed by CORS. */
  frontendOrigin: string | readonly string[];
  /** Directory of the Lambda entry files (default `functions/`). */
  functionsDir?: string;
  /**
   * HTTP endpoint of the local AppSync Events emulator: the origin of `events.httpUrl`
   * (`http://127.0.0.1:<port>`, no path; the publisher adds `/event`). When given,
   * the publish function gets it as EVENTS_HTTP_URL and a second stream poller drives it
   * (PUBLISH_DELIVERY, its own checkpoint and dead-letter file); without it nothing is pushed.
   */
  eventsHttpUrl?: string | undefined;
  /** See {@link LocalStackOptions.onApiAnswer}. */
  onApiAnswer?: ((answer: AnsweredRequest) => void) | undefined;
}

/**
 * Runs the functions on running `services`: loads fresh copies of the route and fan-out
 * functions (which read USER_POOL_ID and the rest of the functions' environment, set by the
 * services, when loaded), starts the stream poller on the table's stream (from its checkpoint
 * when the services persist), then the emulated HTTP API verifying cognito-local's tokens.
 * @throws Error when a function cannot be loaded, the stream cannot be read or the API port
 *   cannot be listened on; whatever this started is stopped again first (the services are not).
 */
export async function runLocalFunctions(
  services: LocalServices,
  options: LocalFunctionsOptions,
): Promise<LocalFunctions> {
  const { logger, region, tableName, stateDir } = services;
  const undo = createTeardown(logger);
  const stop = () => undo.run();
  try {
    if (options.eventsHttpUrl !== undefined) {
      // Read by the publish function when it is loaded (and restored when the services stop).
      const previous = process.env[CONFIG_ENV.eventsHttpUrl];
      process.env[CONFIG_ENV.eventsHttpUrl] = options.eventsHttpUrl;
      undo.push(() => {
        if (previous === undefined) delete process.env[CONFIG_ENV.eventsHttpUrl];
        else process.env[CONFIG_ENV.eventsHttpUrl] = previous;
      });
    }
    const functions = await loadFunctions(options.functionsDir ?? FUNCTIONS_DIR);
    const poller = new StreamPoller({
      ddb: services.clients.ddb,
      streams: services.clients.streams,
      tableName,
      region,
      invoke: (event) => functions.fanOut(event, lambdaContext(FAN_OUT_FUNCTION.fn, randomUUID(), region)),
      logger,
      deadLetterFile: deadLetterFilePath(stateDir),
      checkpointFile: services.persist ? join(stateDir, "stream-checkpoint.json") : undefined,
    });
    await poller.start();
    undo.push(() => poller.stop());

    // The second consumer of the stream: real-time push, in its own failure domain.
    const publishEvents = functions.publishEvents;
    if (publishEvents !== undefined) {
      const publishPoller = new StreamPoller({
        ddb: services.clients.ddb,
        streams: services.clients.streams,
        tableName,
        region,
        invoke: (event) => publishEvents(event, lambdaContext(PUBLISH_FUNCTION.fn, randomUUID(), region)),
        consumer: PUBLISH_FUNCTION.fn,
        logger,
        deadLetterFile: publishDeadLetterFilePath(stateDir),
        checkpointFile: services.persist ? join(stateDir, "publish-stream-checkpoint.json") : undefined,
        delivery: PUBLISH_DELIVERY,
      });
      await publishPoller.start();
      undo.push(() => publishPoller.stop());
    }

    const api = await startHttpApi({
      port: options.apiPort,
      host: services.host,
      routes: ROUTES,
      handlers: functions.routes,
      verifyAccessToken: createAccessTokenVerifier({
        issuer: cognitoLocalIssuer(services.cognitoPort, services.userPoolId, services.host.connect),
        clientId: services.userPoolClientId,
      }),
      frontendOrigin: options.frontendOrigin,
      region,
      logger,
      // The API documents, generated from the code this stack runs (`npm run openapi` commits the same).
      documents: {
        [API_DOCUMENT_PATHS.openapi]: buildOpenApiDocument(),
        [API_DOCUMENT_PATHS.asyncapi]: buildAsyncApiDocument(),
      },
      ...(options.onApiAnswer === undefined ? {} : { onAnswer: options.onApiAnswer }),
    });
    undo.push(() => api.close());
    return { apiUrl: api.url, idle: () => api.idle(), stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

/**
 * Starts the local stack and resolves once it serves requests (about 4 s): the services
 * ({@link startLocalServices}: their order and the seed), then the functions on them
 * ({@link runLocalFunctions}). Stopping goes the other way round.
 * @throws Error when a stack already runs in this process, a port is taken, the state directory
 *   is in use by another running stack (StateInUseError), a child process fails to start or to
 *   answer within 30 s, or a function cannot be loaded; whatever was started is stopped again
 *   before the error is thrown.
 */
export async function startLocalStack(options: LocalStackOptions = {}): Promise<LocalStack> {
  const apiPort = options.apiPort ?? envPort("PORT", DEFAULT_PORTS.api);
  const webPort = options.webPort ?? envPort("WEB_PORT", DEFAULT_PORTS.web);
  const services = await startLocalServices({ ...options, reservedPorts: { api: apiPort, web: webPort } });
  const { logger } = services;

  let markDone: () => void = () => {};
  const done = new Promise<void>((resolve) => {
    markDone = resolve;
  });
  let functions: LocalFunctions | undefined;
  let web: WebServer | undefined;
  let stopped = false;
  const stop = async () => {
    if (stopped) return done;
    stopped = true;
    await web?.close();
    await functions?.stop();
    await services.stop();
    markDone();
  };

  // The web client's origin is allowed by the API's CORS next to the frontend's (as `localhost`
  // too, the name a browser may be given for 127.0.0.1).
  const webOrigins = [httpUrl(services.host.connect, webPort), httpUrl("localhost", webPort)];
  try {
    functions = await runLocalFunctions(services, {
      apiPort,
      frontendOrigin: [options.frontendOrigin ?? (process.env.FRONTEND_URL || DEFAULT_FRONTEND_URL), ...webOrigins],
      ...(options.functionsDir === undefined ? {} : { functionsDir: options.functionsDir }),
      // The publish function posts to the stack's AppSync Events emulator.
      eventsHttpUrl: new URL(services.events.httpUrl).origin,
      onApiAnswer: options.onApiAnswer,
    });
    web = await startWebServer({
      port: webPort,
      host: services.host,
      logger,
      config: {
        apiUrl: functions.apiUrl,
        cognito: {
          endpoint: services.cognitoEndpoint,
          region: services.region,
          userPoolId: services.userPoolId,
          userPoolClientId: services.userPoolClientId,
          auth: "password",
        },
        events: { realtimeUrl: services.events.realtimeUrl, httpHost: new URL(services.events.httpUrl).host },
        seededHandles: services.users.map((u) => u.handle),
      },
    });
  } catch (error) {
    await stop();
    throw error;
  }

  const stack: LocalStack = {
    apiUrl: functions.apiUrl,
    webUrl: web.url,
    cognitoEndpoint: services.cognitoEndpoint,
    region: services.region,
    userPoolId: services.userPoolId,
    userPoolClientId: services.userPoolClientId,
    tableName: services.tableName,
    dynamodbEndpoint: services.dynamodbEndpoint,
    events: services.events,
    users: services.users,
    stateDir: services.stateDir,
    host: services.host,
    pids: services.children.map((c) => c.pid),
    lambdaEndpoint: services.lambdaEndpoint,
    idle: () => functions.idle(),
    stop,
    done,
  };
  for (const child of services.children) {
    void child.exited.then(() => {
      if (stopped) return;
      logger.error("child process exited unexpectedly: stopping the local stack", {
        process: child.name,
        output: child.outputTail().slice(-2000),
      });
      void stop();
    });
  }
  logger.info("local stack ready", {
    api_url: functions.apiUrl,
    persist: services.persist,
    elapsed_ms: services.elapsedMs(),
  });
  return stack;
}
