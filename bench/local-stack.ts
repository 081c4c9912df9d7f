/**
 * Time from `npm start` to the first answered authenticated request: spawns `npm start` with its
 * own state directory (LOCAL_STATE_DIR) and free ports (PORT, DYNAMODB_PORT, COGNITO_PORT, LAMBDA_PORT, EVENTS_PORT, WEB_PORT), waits
 * for its `stack.json`, signs a seeded user in on cognito-local and polls
 * GET /api/message_groups until it answers 200, then stops the stack by its process group and
 * waits until it has stopped its children.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { reapStaleProcesses, StateInUseError } from "../local/child-process";
import { freeStackPorts } from "../local/free-port";
import { REPO_ROOT } from "../local/settings";
import { signIn } from "../local/sign-in";
import { readStackFile } from "../local/state";
import { waitFor } from "../local/wait";
import { routeOf } from "./events";

/** One `npm start`, ms from spawn. */
export interface LocalStackFigures {
  /** `stack.json` written (the stack says it is ready). */
  readyMs: number;
  /** First authenticated request answered 200 (sign-in included). */
  firstAnswerMs: number;
}

/** Whether `child` has not exited yet. */
const runs = (child: ChildProcess) => child.exitCode === null && child.signalCode === null;

/**
 * Stops the `npm start` process group with SIGTERM (the stack then stops its own children and
 * removes its pid file), SIGKILL after 15 s; then kills, by the pids the stack recorded, any child
 * it left behind (`reapStaleProcesses`), so that no DynamoDB Local or cognito-local outlives the run.
 */
async function stopStack(child: ChildProcess, stateDir: string): Promise<void> {
  const pid = child.pid;
  if (pid === undefined) return;
  const pidFile = join(stateDir, "pids.json");
  const signalGroup = (signal: NodeJS.Signals) => {
    try {
      process.kill(-pid, signal);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "ESRCH") throw error;
    }
  };
  signalGroup("SIGTERM");
  for (let waited = 0; waited < 15_000 && (runs(child) || existsSync(pidFile)); waited += 50) await sleep(50);
  let left: string[];
  try {
    left = await reapStaleProcesses(pidFile);
  } catch (error) {
    if (!(error instanceof StateInUseError)) throw error;
    signalGroup("SIGKILL");
    await sleep(500);
    left = await reapStaleProcesses(pidFile);
  }
  if (left.length > 0) process.stderr.write(`bench: npm start left ${left.join(", ")} running: killed\n`);
}

/** Starts and stops the local stack once. @throws Error when it is not answering within 60 s. */
export async function measureLocalStackStart(): Promise<LocalStackFigures> {
  const stateDir = await mkdtemp(join(tmpdir(), "cruddur-bench-stack-"));
  const env = {
    ...process.env,
    LOCAL_STATE_DIR: stateDir,
    ...(await freeStackPorts().then((p) => ({
      PORT: String(p.apiPort),
      DYNAMODB_PORT: String(p.dynamodbPort),
      COGNITO_PORT: String(p.cognitoPort),
      LAMBDA_PORT: String(p.lambdaPort),
      EVENTS_PORT: String(p.eventsPort),
      WEB_PORT: String(p.webPort),
    }))),
  };
  const started = performance.now();
  const child = spawn("npm", ["start"], { cwd: REPO_ROOT, env, detached: true, stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString("utf8")).slice(-4000);
  };
  child.stdout?.on("data", keep);
  child.stderr?.on("data", keep);
  const giveUpIf = () => (child.exitCode !== null ? `npm start exited: ${output}` : undefined);
  try {
    const stack = await waitFor(
      "npm start",
      async () => {
        const file = await readStackFile(stateDir);
        if (file === undefined) throw new Error("no stack.json yet");
        return file;
      },
      { timeoutMs: 60_000, intervalMs: 25, giveUpIf },
    );
    const readyMs = performance.now() - started;
    const user = stack.users[0];
    if (user === undefined) throw new Error("the local stack seeded no user");
    const route = routeOf("list-message-groups");
    await waitFor(
      "first authenticated request",
      async () => {
        const tokens = await signIn(stack, user.username, user.password);
        const response = await fetch(`${stack.apiUrl}${route.path}`, {
          headers: { authorization: `Bearer ${tokens.accessToken}` },
        });
        if (response.status !== 200) throw new Error(`HTTP ${response.status}`);
      },
      { timeoutMs: 30_000, intervalMs: 25, giveUpIf },
    );
    return { readyMs, firstAnswerMs: performance.now() - started };
  } finally {
    await stopStack(child, stateDir);
    await rm(stateDir, { recursive: true, force: true });
  }
}
