/** `npm run ddb -- <command> [options]`: see `npm run ddb -- --help` and docs/operations.md. */
// First: the SDK reads its Node-version switch when a client is built (local/sdk-warning.ts).
import "../local/sdk-warning";
import { main } from "./lib/cli";
import { ddbProgram } from "./lib/ddb-commands";

await main(ddbProgram);
