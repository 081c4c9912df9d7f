/** `npm run users -- <command> [options]`: see `npm run users -- --help` and docs/operations.md. */
import { main } from "./lib/cli";
import { usersProgram } from "./lib/users-commands";

await main(usersProgram);
