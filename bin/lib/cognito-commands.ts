/** The `cognito` program: the users of the user pool. */
import type { CommandSpec, Program } from "./cli";
import { listPoolUsers, type PoolUser } from "./cognito-users";
import { columns, jsonLine } from "./format";
import { requirePool } from "./target";

/** Sort by handle (users without one last), then username. */
function byHandle(a: PoolUser, b: PoolUser): number {
  if (a.handle === undefined || b.handle === undefined)
    return a.handle === b.handle ? 0 : a.handle === undefined ? 1 : -1;
  return a.handle.localeCompare(b.handle) || a.username.localeCompare(b.username);
}

const listUsersCommand: CommandSpec = {
  name: "list-users",
  summary: "every user of the pool: handle, display name, sub",
  details: [
    "Pages through ListUsers (the SDK paginator); cognito-local answers all users at once.",
    "Columns: handle (preferred_username), display name (name), sub (the uuid in the table), status.",
  ],
  options: { json: { type: "boolean", description: "one JSON object per line" } },
  uses: { pool: true },
  examples: ["list-users", "list-users --json", "list-users --prod --user-pool-id eu-west-1_AbCdEf123"],
  async run(ctx) {
    const target = await ctx.target();
    const userPoolId = requirePool(target);
    const { cognito } = await ctx.clients();
    ctx.progress.start("listing users", { unit: "users" });
    let seen = 0;
    const users = await listPoolUsers(cognito, userPoolId, {
      onPage: (n) => {
        ctx.progress.tick(n - seen);
        seen = n;
      },
    });
    ctx.progress.done();
    users.sort(byHandle);
    if (ctx.flag("json")) {
      for (const u of users) ctx.print(jsonLine(u));
    } else {
      const rows = users.map((u) => [
        u.handle === undefined ? "-" : `@${u.handle}`,
        u.display_name ?? "-",
        u.uuid ?? "-",
        `${u.status ?? "-"}${u.enabled ? "" : " (disabled)"}`,
      ]);
      for (const line of columns(rows, ["HANDLE", "DISPLAY NAME", "SUB", "STATUS"])) ctx.print(line);
    }
    ctx.note(`${users.length} users in user pool ${userPoolId}`);
    return 0;
  },
};

/** `npm run cognito -- <command>`. */
export const cognitoProgram: Program = {
  name: "cognito",
  summary: "the Cognito user pool",
  commands: [listUsersCommand],
};
