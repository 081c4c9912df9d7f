/** `npm run users -- <command> [options]`: see `npm run users -- --help` and docs/operations.md. */
// First: the SDK reads its Node-version switch when a client is built (local/sdk-warning.ts).
import "../local/sdk-warning";
import { main } from "./lib/cli";
import { usersProgram } from "./lib/users-commands";

await main(usersProgram);
