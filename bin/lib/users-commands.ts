/**
 * The `users` program: the user directory in the table (built from a user pool, a user's status)
 * and the names the table's rows keep of its users.
 */
import type { CommandContext, CommandSpec, Program } from "./cli";
import type { PoolUser } from "./cognito-users";
import { optionalInt } from "./ddb-commands";
import { commandLine } from "./errors";
import { reportProblems, userLabel, visible } from "./format";
import { type ImportReport, importUsers, notImported } from "./import-users";
import { refreshUserNames } from "./refresh-users";
import { approximateItemCount } from "./scan";
import { describeTarget, requirePool } from "./target";
import { changeUserStatus } from "./user-status";

/** `@handle (Name)  sub <uuid>  username <name>`, names made visible, absent parts shown as such. */
function poolUserLine(u: PoolUser): string {
  const who = u.handle === undefined ? "(no handle)" : `@${visible(u.handle)}`;
  const name = u.display_name === undefined ? "(no name)" : `(${visible(u.display_name)})`;
  return `${who} ${name}  sub ${u.uuid ?? "-"}  username ${visible(u.username)}`;
}

/** Prints an import report: one line per user that needs a look, then the totals. */
function printImport(ctx: CommandContext, report: ImportReport): void {
  const created = report.dryRun ? "would create" : "created";
  for (const { user, status } of report.created) {
    ctx.print(`${created}  ${poolUserLine(user)}${status === "disabled" ? "  (disabled, as in Cognito)" : ""}`);
  }
  for (const d of report.duplicates) {
    const holder = d.holder === undefined ? "" : `; in the directory it is ${d.holder}`;
    for (const user of d.users) {
      ctx.print(`duplicate  ${poolUserLine(user)}  (${d.handle} is claimed by ${d.users.length} users${holder})`);
    }
  }
  for (const { user, reason } of report.invalid) ctx.print(`invalid  ${poolUserLine(user)}  (${reason})`);
  for (const { user, reason } of report.missing) ctx.print(`missing  ${poolUserLine(user)}  (${reason})`);
  for (const { user, reason } of report.taken) ctx.print(`taken  ${poolUserLine(user)}  (${reason})`);
  for (const user of report.unconfirmed) {
    ctx.print(`unconfirmed  ${poolUserLine(user)}  (its confirmation will claim the handle)`);
  }
  const duplicates = report.duplicates.reduce((n, d) => n + d.users.length, 0);
  const skipped = notImported(report);
  ctx.print(
    `${created} ${report.created.length}, existing ${report.existing}, unconfirmed ${report.unconfirmed.length}, ` +
      `not imported ${skipped} (${duplicates} duplicate, ${report.invalid.length} invalid, ${report.missing.length} missing, ` +
      `${report.taken.length} taken) of ${report.poolUsers} users in the pool`,
  );
  for (const { user, profile } of report.disabledInCognitoOnly) {
    ctx.note(
      `note: Cognito user ${visible(user.username)} is disabled but the profile of @${profile.handle} is active: \`npm run users -- disable ${profile.handle}\` settles it`,
    );
  }
  if (skipped > 0) {
    ctx.note(
      "hint: fix those users in Cognito (duplicate: give all but one another preferred_username; invalid/missing: set a valid preferred_username and name), then run the import again",
    );
  }
}

const importCommand: CommandSpec = {
  name: "import",
  summary: "build the user directory in the table from the users of a user pool (idempotent)",
  details: [
    "For every user of the pool (ListUsers, every page) without a profile in the directory: claims the",
    "handle (preferred_username) and writes the profile (uuid = sub, display name = name; disabled for a",
    "disabled Cognito user), in one conditional transaction. Users that have a profile are left alone",
    "(Cognito attributes are never identity after sign-up), so running it again writes nothing new.",
    "Not imported, and listed: handles claimed by two or more users regardless of case (none of them",
    "gets it: resolve it in Cognito), handles or names that break the identity rules, users missing",
    "sub/preferred_username/name, handles another user holds in the directory. Unconfirmed sign-ups are",
    "listed and skipped (their confirmation claims the handle).",
    "Exit code 1 when any user was not imported (dry run: would not be), so a migration script stops",
    "until every user of the pool has a profile; 0 otherwise.",
  ],
  options: {
    "dry-run": { type: "boolean", description: "read everything and report what would be created; write nothing" },
  },
  uses: { table: true, pool: true },
  examples: [
    "import --dry-run",
    "import",
    "import --prod --table cruddur-messages --user-pool-id eu-west-1_AbC --progress",
  ],
  async run(ctx) {
    const target = await ctx.target();
    const userPoolId = requirePool(target);
    const { doc, cognito } = await ctx.clients();
    const dryRun = ctx.flag("dry-run");
    ctx.note(
      `${dryRun ? "dry run: " : ""}importing user pool ${userPoolId} into the directory of table ${target.tableName} on the ${describeTarget(target)}`,
    );
    const report = await importUsers(
      { doc, tableName: target.tableName, cognito, userPoolId },
      { dryRun, nowMs: Date.now(), progress: ctx.progress },
    );
    printImport(ctx, report);
    return notImported(report) > 0 ? 1 : 0;
  },
};

/** `disable` and `enable`: the same lookup, the opposite change. */
function statusCommand(name: "disable" | "enable"): CommandSpec {
  const disable = name === "disable";
  return {
    name,
    summary: disable
      ? "disable a user: profile disabled (the API answers 401), Cognito user disabled and signed out"
      : "enable a disabled user again: Cognito user enabled, profile active",
    details: disable
      ? [
          "Finds the owner of the handle in the user directory, their Cognito username by sub (ListUsers),",
          "then sets the profile's status to disabled (every route answers 401 within USER_CACHE_TTL_MS,",
          "60 s by default), AdminDisableUser (no new sign-in) and AdminUserGlobalSignOut (refresh tokens",
          "revoked). Access tokens already issued stay valid JWTs until they expire (60 min): the API refuses",
          "them because of the profile. A user deleted from Cognito is disabled in the directory only.",
          "Running it again is safe. cognito-local has no AdminUserGlobalSignOut: locally it is skipped.",
        ]
      : [
          "Finds the owner of the handle in the user directory and their Cognito username by sub, then",
          "AdminEnableUser and sets the profile's status to active (in that order). The user signs in again",
          "to get tokens (the disable revoked their refresh tokens). Running it again is safe.",
        ],
    args: [{ name: "handle", description: "the user's handle, any case, with or without @" }],
    uses: { table: true, pool: true },
    examples: [`${name} bayko`, `${name} @bayko --prod --table cruddur-messages --user-pool-id eu-west-1_AbC`],
    async run(ctx) {
      const target = await ctx.target();
      const userPoolId = requirePool(target);
      const { doc, cognito } = await ctx.clients();
      const change = await changeUserStatus(
        { doc, tableName: target.tableName, cognito, userPoolId, local: target.kind === "local" },
        ctx.args[0] as string,
        disable ? "disabled" : "active",
        Date.now(),
      );
      const { profile, cognitoUser } = change;
      ctx.print(
        `${disable ? "disabled" : "enabled"} @${profile.handle} (${visible(profile.display_name)})  ${profile.uuid}`,
      );
      const was = profile.status === change.status ? ` (it was ${profile.status} already)` : ` (was ${profile.status})`;
      ctx.print(`  directory: profile ${change.status}${was}`);
      if (cognitoUser === undefined) {
        ctx.print(`  Cognito:   no user with this sub in user pool ${userPoolId} (deleted): nothing to disable there`);
      } else if (disable) {
        const signOut =
          change.signOut === "done"
            ? "signed out globally (refresh tokens revoked)"
            : "global sign-out skipped (cognito-local has no AdminUserGlobalSignOut)";
        ctx.print(`  Cognito:   user ${visible(cognitoUser.username)} disabled, ${signOut}`);
      } else {
        ctx.print(`  Cognito:   user ${visible(cognitoUser.username)} enabled`);
      }
      if (disable) {
        ctx.note(
          "every route answers this user 401 once the functions' user cache expires (USER_CACHE_TTL_MS, 60 s by default)",
        );
      } else {
        ctx.note(
          `the user signs in again to get tokens; \`${commandLine(target, "users", `disable ${profile.handle}`)}\` undoes it`,
        );
      }
      return 0;
    },
  };
}

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
      ctx.print(`${r.from.join(", ")} -> ${userLabel(r.to)}  ${r.uuid}`);
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
    return reportProblems(
      ctx,
      report.problems,
      "inspect those rows with `npm run ddb -- scan`; the rest of the table was refreshed",
    );
  },
};

/** `npm run users -- <command>`. */
export const usersProgram: Program = {
  name: "users",
  summary: "the user directory in the table (import, disable, enable) and the names its rows keep (refresh)",
  commands: [importCommand, statusCommand("disable"), statusCommand("enable"), refreshCommand],
};
