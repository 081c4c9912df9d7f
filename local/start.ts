/**
 * `npm start [-- --persist]`: starts the local stack, writes `.local/stack.json`, prints how to
 * call it, and on SIGINT/SIGTERM/SIGHUP stops every child process and removes `stack.json`.
 * With `--persist`, the table, the users and the stream checkpoint survive a restart.
 */
import "./sdk-warning";
import { parseArgs } from "node:util";
import { API_DOCUMENT_PATHS } from "../shared/openapi";
import { type LocalStack, startLocalStack } from "./stack";
import { removeStackFile, stackFilePath, toStackFile, writeStackFile } from "./state";

const { values } = parseArgs({ options: { persist: { type: "boolean", default: false } } });

let stack: LocalStack | undefined;
let stopping = false;
async function shutdown(signal: NodeJS.Signals): Promise<void> {
  // Before the stack is up there is nothing to stop gracefully: exiting kills the children
  // (see child-process.ts).
  if (stack === undefined) process.exit(130);
  if (stopping) return;
  stopping = true;
  process.stderr.write(`\n${signal}: stopping the local stack...\n`);
  await stack.stop();
  await removeStackFile(stack.stateDir);
  process.exit(0);
}
for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) process.on(signal, () => void shutdown(signal));

const started = performance.now();
try {
  stack = await startLocalStack({ persist: values.persist });
} catch (error) {
  process.stderr.write(`local stack failed to start: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
}

// A child process that dies stops the stack (the stack logs why): exit with an error.
void stack.done.then(async () => {
  if (stopping || stack === undefined) return;
  await removeStackFile(stack.stateDir);
  process.stderr.write("the local stack stopped because a child process exited (see the log above)\n");
  process.exit(1);
});

const info = toStackFile(stack);
await writeStackFile(stack.stateDir, info);
const seconds = ((performance.now() - started) / 1000).toFixed(1);
const handle = info.users[0]?.handle ?? "<handle>";
process.stdout.write(
  [
    "",
    `Local stack ready in ${seconds} s${values.persist ? " (persisted)" : ""}; written to ${stackFilePath(stack.stateDir)}:`,
    JSON.stringify(info, null, 2),
    "",
    `Web client: ${info.webUrl} (sign in as a seeded user with the password above)`,
    `Real-time (AppSync Events emulator): subscribe at ${info.events.realtimeUrl} with an access token;`,
    `  publish (IAM-signed with the local credentials, service appsync) at ${info.events.httpUrl}`,
    `API documents: ${info.apiUrl}${API_DOCUMENT_PATHS.openapi} (OpenAPI 3.1), ${info.apiUrl}${API_DOCUMENT_PATHS.asyncapi} (AsyncAPI 3.0)`,
    "",
    "Try:",
    `  curl -s -H "Authorization: Bearer $(npm run -s token -- ${handle})" ${info.apiUrl}/api/message_groups`,
    "",
    "Ctrl-C stops it.",
    "",
  ].join("\n"),
);
