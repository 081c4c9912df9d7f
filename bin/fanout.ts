/** `npm run fanout -- <command> [options]`: see `npm run fanout -- --help` and docs/operations.md. */
// First: the SDK reads its Node-version switch when a client is built (local/sdk-warning.ts).
import "../local/sdk-warning";
import { main } from "./lib/cli";
import { fanoutProgram } from "./lib/fanout-commands";

await main(fanoutProgram);
