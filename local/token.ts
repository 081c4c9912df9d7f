/**
 * `npm run token -- <handle>`: prints an access token of a seeded user of the running local
 * stack (read from `stack.json` in `LOCAL_STATE_DIR`, default `.local/`), for `curl -H "Authorization: Bearer $(...)"`.
 * Exits 1 with a message on stderr when no stack runs or the handle is unknown.
 */
// Only the token goes to the terminal: not the SDK's notice about Node 20 support in 2027.
import "./sdk-warning";
import { signIn } from "./sign-in";
import { readStackFile, stateDirFromEnv } from "./state";

function fail(message: string): never {
  process.stderr.write(`token: ${message}\n`);
  process.exit(1);
}

const handle = process.argv[2]?.replace(/^@/, "");
if (handle === undefined || handle === "") fail("usage: npm run token -- <handle>");

const stack = await readStackFile(stateDirFromEnv());
if (stack === undefined) fail("no local stack is running (no .local/stack.json): start one with `npm start`");

const user = stack.users.find((u) => u.handle === handle);
if (user === undefined) {
  fail(`unknown handle "${handle}"; seeded handles: ${stack.users.map((u) => u.handle).join(", ") || "none"}`);
}

try {
  const tokens = await signIn(stack, user.username, user.password);
  process.stdout.write(`${tokens.accessToken}\n`);
} catch (error) {
  // AWS SDK service errors carry $metadata; anything else is a network error.
  fail(
    error instanceof Error && "$metadata" in error
      ? `cognito-local refused the sign-in of ${handle}: ${error.message}`
      : `the local stack is not running (cognito-local at ${stack.cognitoEndpoint} does not answer): start it with \`npm start\``,
  );
}
