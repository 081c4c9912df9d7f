/** The `users` program: keeping the names the table's rows hold in step with the user directory. */
import type { CommandSpec, Program } from "./cli";
import { optionalInt } from "./ddb-commands";
import { commandLine } from "./errors";
import { refreshUserNames } from "./refresh-users";
import { approximateItemCount } from "./scan";
import { describeTarget } from "./target";

const refreshCommand: CommandSpec = {
  name: "refresh",
  summary: "rewrite handles and display names in the table's rows from the user directory (after renames)",
  details: [
    "Updates user_handle/user_display_name of MSG rows (the sender) and GRP rows (the other member),",
    "and the members of message group items, from the users' profiles in the user directory of the",
    "same table (never from Cognito: its attributes are not identity after sign-up). PATCH /api/users/me",
    "propagates its own renames; this catches up on everything else. Keys never change; updates are",
    "conditional, so running it again (or alongside the fan-out) is safe. One full table scan; the",
    "profiles of the users it names are read as it goes (BatchGetItem), once per user.",
    "Users named in rows that have no profile keep the names the rows have (they are listed).",
  ],
  options: {
    "dry-run": { type: "boolean", description: "read everything and report what would change; write nothing" },
    "page-size": { type: "string", value: "<n>", description: "items per Scan request (default: 1 MB pages)" },
  },
  uses: { table: true },
  examples: ["refresh --dry-run", "refresh", "refresh --prod --table cruddur-messages --progress"],
  async run(ctx) {
    const target = await ctx.target();
    const { ddb, doc } = await ctx.clients();
    const dryRun = ctx.flag("dry-run");
    const pageSize = optionalInt(ctx, "page-size");
    ctx.note(
      `${dryRun ? "dry run: " : ""}refreshing table ${target.tableName} on the ${describeTarget(target)} from its user directory`,
    );
    const approximateItems = ctx.progress.active ? await approximateItemCount(ddb, target.tableName) : undefined;
    const report = await refreshUserNames(
      { doc, tableName: target.tableName },
      { dryRun, progress: ctx.progress, approximateItems, pageSize },
    );

    for (const r of report.renames) {
      ctx.print(`${r.from.join(", ")} -> @${r.to.handle} (${r.to.display_name})  ${r.uuid}`);
    }
    const { messages, summaries, groupItems } = report.updated;
    const verb = dryRun ? "would update" : "updated";
    ctx.print(
      `${verb} ${messages} MSG rows, ${summaries} GRP rows, ${groupItems} message group items` +
        ` (${report.scanned} items scanned, ${report.groups} groups, ${report.profiles} profiles read)`,
    );
    if (report.fixedOnRecheck > 0) {
      ctx.note(`${report.fixedOnRecheck} rows were rewritten by a concurrent fan-out and fixed again`);
    }
    if (report.unknownUsers.length > 0) {
      const shown = report.unknownUsers.slice(0, 5).join(", ");
      const more = report.unknownUsers.length > 5 ? ` and ${report.unknownUsers.length - 5} more` : "";
      ctx.note(
        `left alone: ${report.unknownUsers.length} users named in the table have no profile in the directory (${shown}${more})`,
      );
      ctx.note(`  hint: \`${commandLine(target, "users", "import")}\` adds the users of the pool that have none`);
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
  summary: "the names the table's rows keep of its users, kept in step with the user directory",
  commands: [refreshCommand],
};
