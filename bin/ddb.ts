/** `npm run ddb -- <command> [options]`: see `npm run ddb -- --help` and docs/operations.md. */
import { main } from "./lib/cli";
import { ddbProgram } from "./lib/ddb-commands";

await main(ddbProgram);
