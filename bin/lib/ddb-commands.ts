/** The `ddb` program: table administration, seeding, scan and the access patterns A and B. */
import { MESSAGE_GROUP_PREFIX, TTL_ATTRIBUTE } from "../../shared/table";
import { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE } from "../../shared/validation";
import type { CommandContext, CommandSpec, Program } from "./cli";
import { stripAt } from "./cognito-users";
import { getConversation, listConversations, type PageChoice, type PageResult } from "./conversations";
import { findUserByHandle } from "./directory-users";
import { commandLine } from "./errors";
import { itemLine, jsonLine, messageGroupLines, messageLines, userLabel } from "./format";
import { OpsError } from "./ops-errors";
import { approximateItemCount, scanItems } from "./scan";
import { seed } from "./seed-conversation";
import { dropTable, listTables, schemaLoad, type WaitOptions } from "./table-admin";
import { describeTarget, type Target } from "./target";

/** A positive integer option, or undefined when absent. */
export function optionalInt(ctx: CommandContext, name: string): number | undefined {
  return ctx.string(name) === undefined ? undefined : ctx.int(name, { min: 1, max: 1_000_000, default: 1 });
}

/** Progress of waiting for a table's status: the seconds waited. */
function waitProgress(ctx: CommandContext, label: string): WaitOptions {
  ctx.progress.start(label, { unit: "s" });
  let shown = 0;
  return {
    onWaiting: (seconds) => {
      ctx.progress.tick(seconds - shown);
      shown = seconds;
    },
  };
}

const schemaLoadCommand: CommandSpec = {
  name: "schema-load",
  summary: "create the table (keys, GSI, stream, TTL) from the shared definition",
  details: [
    "Creates the table from createTableInput (shared/table.ts): pk/sk, the GSI message-group-sk-index,",
    `the NEW_IMAGE stream, on-demand billing; waits until it is ACTIVE, then turns TTL on (${TTL_ATTRIBUTE}).`,
    "An existing table is left alone and compared with the definition (exit 1 when it differs); a TTL",
    "that is off is reported, not changed (nothing relies on TTL deletion: it only clears dead claims).",
  ],
  uses: { table: true },
  examples: ["schema-load", "schema-load --table cruddur-messages-copy", "schema-load --prod --table cruddur-messages"],
  async run(ctx) {
    const target = await ctx.target();
    const { ddb } = await ctx.clients();
    const result = await schemaLoad(ddb, target.tableName, waitProgress(ctx, `creating ${target.tableName}`));
    ctx.progress.done();
    const where = describeTarget(target);
    if (result.status === "created") {
      const gsi = result.description.GlobalSecondaryIndexes?.map((i) => i.IndexName).join(", ") ?? "none";
      const stream = result.description.StreamSpecification?.StreamViewType ?? "none";
      ctx.print(
        `created table ${target.tableName} (GSI ${gsi}, stream ${stream}, TTL ${result.ttlAttribute}) on the ${where}`,
      );
      return 0;
    }
    ctx.print(`table ${target.tableName} already exists on the ${where}; nothing changed`);
    if (result.ttlAttribute !== TTL_ATTRIBUTE) {
      ctx.note(
        `note: TTL is ${result.ttlAttribute === undefined ? "off" : `on ${result.ttlAttribute}`}, expected on ${TTL_ATTRIBUTE}: expired sign-up claims and handle reservations stay in the table (they are ignored, never deleted)`,
      );
      ctx.note(
        `  hint: aws dynamodb update-time-to-live --table-name ${target.tableName} --time-to-live-specification Enabled=true,AttributeName=${TTL_ATTRIBUTE}`,
      );
    }
    if (result.differences.length === 0) return 0;
    ctx.note("but it differs from the shared definition (shared/table.ts):");
    for (const d of result.differences) ctx.note(`  - ${d}`);
    ctx.note(
      `  hint: the functions expect the definition; re-create the table (\`${commandLine(target, "ddb", `drop ${target.tableName}`)}\` loses its data) or fix it in the console`,
    );
    return 1;
  },
};

const listTablesCommand: CommandSpec = {
  name: "list-tables",
  summary: "list the tables (one name per line)",
  uses: {},
  examples: ["list-tables", "list-tables --prod --region eu-west-1"],
  async run(ctx) {
    const { ddb } = await ctx.clients();
    const names = await listTables(ddb);
    for (const name of names) ctx.print(name);
    if (names.length === 0) ctx.note("no tables");
    return 0;
  },
};

const dropCommand: CommandSpec = {
  name: "drop",
  summary: "delete a table (a cloud table only with --yes-delete-cloud-table)",
  details: [
    "Every item of the table is lost. Locally, restart `npm start` afterwards (its stream poller reads the old table).",
  ],
  args: [{ name: "table", description: "name of the table to delete" }],
  options: {
    "yes-delete-cloud-table": { type: "boolean", description: "confirm deleting a table in AWS (needed with --prod)" },
  },
  uses: {},
  examples: ["drop cruddur-messages", "drop cruddur-messages-copy --prod --yes-delete-cloud-table"],
  async run(ctx) {
    const tableName = ctx.args[0] as string;
    if (ctx.flag("prod") && !ctx.flag("yes-delete-cloud-table")) {
      throw new OpsError(
        `refusing to delete the AWS table "${tableName}" without confirmation`,
        "add --yes-delete-cloud-table if you really mean it: every item is lost for good",
      );
    }
    const target = await ctx.target();
    const { ddb } = await ctx.clients();
    try {
      await dropTable(ddb, tableName, waitProgress(ctx, `deleting ${tableName}`));
    } catch (error) {
      if (error instanceof OpsError && error.message.endsWith("does not exist")) {
        throw new OpsError(error.message, `list the tables with \`${commandLine(target, "ddb", "list-tables")}\``);
      }
      throw error;
    }
    ctx.progress.done();
    ctx.print(`deleted table ${tableName} (${target.kind === "local" ? "local stack" : "AWS"})`);
    return 0;
  },
};

const seedCommand: CommandSpec = {
  name: "seed",
  summary: "write the seeded conversation between two existing users (idempotent)",
  details: [
    "Writes the local stack's seeded conversation (shared/seed-data.ts) between the users @andrewbrown",
    "and @bayko (or --a/--b), looked up by handle in the user directory of the table (never in Cognito;",
    "`npm run users -- import` builds the directory from a user pool). Both must be active. A pair that",
    "already has a conversation is left alone, so running it twice leaves one copy.",
  ],
  options: {
    a: { type: "string", value: "<handle>", description: "first member (default andrewbrown)" },
    b: { type: "string", value: "<handle>", description: "second member (default bayko)" },
  },
  uses: { table: true },
  examples: ["seed", "seed --a andrewbrown --b londo", "seed --prod --table cruddur-messages"],
  async run(ctx) {
    const target = await ctx.target();
    const { doc } = await ctx.clients();
    const result = await seed(
      { doc, tableName: target.tableName },
      { a: ctx.string("a"), b: ctx.string("b"), nowMs: Date.now() },
    );
    const pair = `@${result.a.handle} and @${result.b.handle}`;
    if (result.skipped) {
      ctx.print(`already seeded: ${pair} have conversation ${result.message_group_uuid}; nothing written`);
    } else {
      ctx.print(
        `seeded conversation ${result.message_group_uuid} between ${pair}: ${result.messages} messages, ${result.written} items`,
      );
    }
    return 0;
  },
};

const scanCommand: CommandSpec = {
  name: "scan",
  summary: "print every item of the table, one per line (--json for JSON lines)",
  details: ["A full table read (paginated Scan): on a large AWS table it costs read capacity."],
  options: {
    json: { type: "boolean", description: "one JSON object per line (every attribute, nothing cut)" },
    "page-size": { type: "string", value: "<n>", description: "items per Scan request (default: 1 MB pages)" },
  },
  uses: { table: true },
  examples: [
    "scan",
    `scan --json | grep '"pk":"${MESSAGE_GROUP_PREFIX}'`,
    "scan --prod --table cruddur-messages --progress > items.txt",
  ],
  async run(ctx) {
    const target = await ctx.target();
    const { ddb, doc } = await ctx.clients();
    const pageSize = optionalInt(ctx, "page-size");
    const total = ctx.progress.active ? await approximateItemCount(ddb, target.tableName) : undefined;
    ctx.progress.start("scanning", { total, approximate: true, unit: "items" });
    const json = ctx.flag("json");
    let seen = 0;
    for await (const item of scanItems(doc, target.tableName, {
      pageSize,
      onPage: (n) => {
        ctx.progress.tick(n - seen);
        seen = n;
      },
    })) {
      ctx.print(json ? jsonLine(item) : itemLine(item));
    }
    ctx.progress.done();
    ctx.note(`${seen} items in ${target.tableName}`);
    return 0;
  },
};

const pagingOptions = {
  limit: {
    type: "string",
    value: "<n>",
    description: `rows per page, 1 to ${MAX_PAGE_SIZE} (default ${DEFAULT_PAGE_SIZE})`,
  },
  before: { type: "string", value: "<cursor>", description: "the older page after this cursor (printed under a page)" },
  page: { type: "string", value: "<n>", description: "the n-th page, 1 = newest (walks the cursors)" },
  json: { type: "boolean", description: "one JSON object per line, as the API answers them" },
} as const;

function pageChoice(ctx: CommandContext): PageChoice {
  return {
    limit: ctx.int("limit", { min: 1, max: MAX_PAGE_SIZE, default: DEFAULT_PAGE_SIZE }),
    before: ctx.string("before"),
    page: optionalInt(ctx, "page"),
  };
}

/** How a page of pattern A or B is shown. */
interface PageView<T> {
  /** The note above the page (the page number and a colon are added). */
  heading: string;
  /** The page's lines for a terminal (without --json). */
  lines: (items: readonly T[]) => string[];
  /** The note under an empty page. */
  empty: string;
  /** The command, after `npm run ddb -- `, that the "older:" note repeats with --before. */
  again: string;
}

/**
 * Prints a page: the heading (note), the rows (JSON lines with --json) and the command line of
 * the next older page (note), so that stdout gets only the rows.
 */
function printPage<T>(ctx: CommandContext, target: Target, page: PageResult<T>, view: PageView<T>): void {
  ctx.note(`${view.heading}${page.page === undefined ? "" : `, page ${page.page}`}:`);
  if (ctx.flag("json")) for (const item of page.items) ctx.print(jsonLine(item));
  else for (const line of view.lines(page.items)) ctx.print(line);
  if (page.items.length === 0) ctx.note(view.empty);
  if (page.cursor !== undefined) {
    ctx.note(
      `older: ${commandLine(target, "ddb", `${view.again} --limit ${page.items.length} --before ${page.cursor}`)}`,
    );
  }
}

const getConversationCommand: CommandSpec = {
  name: "get-conversation",
  summary: "the newest messages of a conversation, oldest first (pattern A)",
  details: [
    "One line per message: local date-time (TZ), sender handle, a preview of the text.",
    "Older pages: --before <cursor> (printed under each page; an API x-next-cursor works too) or --page <n>.",
  ],
  args: [{ name: "message_group_uuid", description: "the conversation (see list-conversations)" }],
  options: pagingOptions,
  uses: { table: true },
  examples: [
    "get-conversation 5ae290ed-55d1-47a0-bc6d-fe2bc2700399",
    "get-conversation 5ae290ed-55d1-47a0-bc6d-fe2bc2700399 --limit 5 --page 2",
    "get-conversation 5ae290ed-55d1-47a0-bc6d-fe2bc2700399 --before eyJ2IjoxLCJzY29wZSI6...",
  ],
  async run(ctx) {
    const target = await ctx.target();
    const { doc } = await ctx.clients();
    const groupUuid = ctx.args[0] as string;
    const page = await getConversation({ ddb: doc, tableName: target.tableName }, groupUuid, pageChoice(ctx));
    printPage(ctx, target, page, {
      heading: `conversation ${groupUuid} between ${page.group.members.map(userLabel).join(" and ")}`,
      lines: messageLines,
      empty: "(no messages)",
      again: `get-conversation ${groupUuid}`,
    });
    return 0;
  },
};

const listConversationsCommand: CommandSpec = {
  name: "list-conversations",
  summary: "a user's conversations, most recent first (pattern B)",
  details: [
    "Finds the user by handle in the user directory of the table (a disabled user too), then lists the",
    "GRP rows of that uuid: local date-time of the last message, the other member, a preview of the",
    "last message, the message_group_uuid.",
  ],
  args: [{ name: "handle", description: "the user's handle (with or without @)" }],
  options: pagingOptions,
  uses: { table: true },
  examples: [
    "list-conversations andrewbrown",
    "list-conversations @bayko --json",
    "list-conversations bayko --limit 5 --page 3",
  ],
  async run(ctx) {
    const target = await ctx.target();
    const { doc } = await ctx.clients();
    const handle = stripAt(ctx.args[0] as string);
    const choice = pageChoice(ctx);
    const deps = { ddb: doc, tableName: target.tableName };
    const user = await findUserByHandle(deps, handle);
    if (user === undefined) {
      throw new OpsError(
        `no user @${handle} in the user directory of table ${target.tableName}`,
        `a user of the pool who has no profile yet is added by \`${commandLine(target, "users", "import")}\``,
      );
    }
    const page = await listConversations(deps, user, choice);
    const disabled = user.status === "disabled" ? ", disabled" : "";
    printPage(ctx, target, page, {
      heading: `conversations of @${user.handle} (${user.display_name}, ${user.uuid}${disabled})`,
      lines: messageGroupLines,
      empty: "(no conversations)",
      again: `list-conversations ${user.handle}`,
    });
    return 0;
  },
};

/** `npm run ddb -- <command>`. */
export const ddbProgram: Program = {
  name: "ddb",
  summary: "the DynamoDB table: schema, seed, scan and the access patterns",
  commands: [
    schemaLoadCommand,
    listTablesCommand,
    dropCommand,
    seedCommand,
    scanCommand,
    getConversationCommand,
    listConversationsCommand,
  ],
};
