/** The `users` program: keeping the names the table holds in step with Cognito. */
import type { CommandSpec, Program } from "./cli";
import { profilesBySub } from "./cognito-users";
import { optionalInt } from "./ddb-commands";
import { refreshUserNames } from "./refresh-users";
import { approximateItemCount } from "./scan";
import { describeTarget, requirePool } from "./target";

const refreshCommand: CommandSpec = {
  name: "refresh",
  summary: "rewrite handles and display names in the table from Cognito (after renames)",
  details: [
    "Updates user_handle/user_display_name of MSG rows (the sender) and GRP rows (the other member),",
    "and the members of message group items, from the user pool. Keys never change; updates are",
    "conditional, so running it again (or alongside the fan-out) is safe. One full table scan.",
    "A message posted within a minute of a rename may still carry the old name (the functions cache",
    "users for USER_CACHE_TTL_MS): run it again later if needed.",
  ],
  options: {
    "dry-run": { type: "boolean", description: "read everything and report what would change; write nothing" },
    "page-size": { type: "string", value: "<n>", description: "items per Scan request (default: 1 MB pages)" },
  },
  uses: { table: true, pool: true },
  examples: [
    "refresh --dry-run",
    "refresh",
    "refresh --prod --table cruddur-messages --user-pool-id eu-west-1_AbC --progress",
  ],
  async run(ctx) {
    const target = await ctx.target();
    const userPoolId = requirePool(target);
    const { ddb, doc, cognito } = await ctx.clients();
    const dryRun = ctx.flag("dry-run");
    const pageSize = optionalInt(ctx, "page-size");
    ctx.note(
      `${dryRun ? "dry run: " : ""}refreshing table ${target.tableName} on the ${describeTarget(target)} from user pool ${userPoolId}`,
    );

    ctx.progress.start("reading users", { unit: "users" });
    let users = 0;
    const profiles = await profilesBySub(cognito, userPoolId, (n) => {
      ctx.progress.tick(n - users);
      users = n;
    });
    ctx.progress.done();
    const approximateItems = ctx.progress.active ? await approximateItemCount(ddb, target.tableName) : undefined;
    const report = await refreshUserNames(
      { doc, tableName: target.tableName, profiles },
      { dryRun, progress: ctx.progress, approximateItems, pageSize },
    );

    for (const r of report.renames) {
      ctx.print(`${r.from.join(", ")} -> @${r.to.handle} (${r.to.display_name})  ${r.uuid}`);
    }
    const { messages, summaries, groupItems } = report.updated;
    const verb = dryRun ? "would update" : "updated";
    ctx.print(
      `${verb} ${messages} MSG rows, ${summaries} GRP rows, ${groupItems} message group items` +
        ` (${report.scanned} items scanned, ${report.groups} groups, ${profiles.size} users in the pool)`,
    );
    if (report.fixedOnRecheck > 0) {
      ctx.note(`${report.fixedOnRecheck} rows were rewritten by a concurrent fan-out and fixed again`);
    }
    if (report.unknownUsers.length > 0) {
      const shown = report.unknownUsers.slice(0, 5).join(", ");
      const more = report.unknownUsers.length > 5 ? ` and ${report.unknownUsers.length - 5} more` : "";
      ctx.note(
        `left alone: ${report.unknownUsers.length} users named in the table are not in the pool (${shown}${more})`,
      );
    }
    for (const p of report.problems) ctx.note(`problem: ${p}`);
    if (report.problems.length > 0) {
      ctx.note("  hint: inspect those rows with `npm run ddb -- scan`; the rest of the table was refreshed");
      return 1;
    }
    return 0;
  },
};

/** `npm run users -- <command>`. */
export const usersProgram: Program = {
  name: "users",
  summary: "the users' names kept in the table",
  commands: [refreshCommand],
};
