/**
 * The `fanout` program: recovering the fan-out (pattern E). `redrive` replays the batches its
 * on-failure destination points to; `repair` recomputes every summary from the table.
 */
import { SQSClient } from "@aws-sdk/client-sqs";
import { type LetterResult, type RedriveReport, redrive } from "../../shared/redrive";
import { DRIFT_KINDS, type DriftKind, RepairPlan, repairTable } from "../../shared/repair";
import { GSI, PARTITION_KEY, SORT_KEY } from "../../shared/table";
import type { CommandContext, CommandSpec, Program } from "./cli";
import { optionalInt } from "./ddb-commands";
import { commandLine } from "./errors";
import { fileFailureQueue, type OperatorQueue, sqsFailureQueue } from "./failure-queues";
import { reportProblems } from "./format";
import { approximateItemCount, scanPages } from "./scan";
import { describeTarget, requireQueueUrl, type Target } from "./target";

/** The on-failure destination of the target, and how to name it to the operator. */
function failureQueue(target: Target): { queue: OperatorQueue; name: string; destroy(): void } {
  if (target.kind === "local") {
    const file = target.deadLetterFile as string;
    return { queue: fileFailureQueue(file), name: `dead-letter file ${file}`, destroy() {} };
  }
  const url = requireQueueUrl(target);
  const sqs = new SQSClient(target.region === undefined ? {} : { region: target.region });
  return { queue: sqsFailureQueue(sqs, url), name: `on-failure queue ${url}`, destroy: () => sqs.destroy() };
}

/** `shard <id> <start>..<end>` of a letter, or its id when it is not a pointer. */
function rangeOf(result: LetterResult): string {
  const info = result.record?.DDBStreamBatchInfo;
  if (info === undefined) return `letter ${result.id}`;
  return `${info.shardId} ${info.startSequenceNumber}..${info.endSequenceNumber}`;
}

/** One line per letter, what happened to it. */
function letterLine(result: LetterResult, dryRun: boolean): string {
  const kept = dryRun ? "kept (dry run)" : "kept";
  switch (result.status) {
    case "replayed": {
      const counts = new Map<string, number>();
      for (const g of result.groups) counts.set(g.outcome ?? "", (counts.get(g.outcome ?? "") ?? 0) + 1);
      const outcomes = [...counts].map(([o, n]) => `${n} ${o.replaceAll("_", " ")}`).join(", ");
      const what = `${result.records} records, ${result.groups.length} groups${outcomes ? ` (${outcomes})` : ""}`;
      return dryRun ? `would replay  ${rangeOf(result)}  ${what}` : `replayed  ${rangeOf(result)}  ${what}  deleted`;
    }
    case "failed":
      return `failed  ${rangeOf(result)}  ${result.errors.join("; ")}  ${kept}`;
    case "expired":
      return `expired  ${rangeOf(result)}  ${result.reason}  ${result.deleted ? "deleted" : kept}`;
    case "unreadable":
      return `unreadable  ${rangeOf(result)}  ${result.reason}  kept`;
    case "other_table":
      return `other table  ${rangeOf(result)}  the stream of table ${result.table ?? "?"}  kept`;
  }
}

/** The totals line of a redrive. */
function totalsLine(report: RedriveReport): string {
  const { groups } = report;
  const verb = report.dryRun ? "would replay" : "replayed";
  const moved = report.dryRun ? `${groups.would_move} would move` : `${groups.moved} moved`;
  return (
    `${verb} ${report.replayed}, failed ${report.failed}, expired ${report.expired}, skipped ${report.skipped} of ${report.letters} letters; ` +
    `${report.records} records read back, groups: ${moved}, ${groups.already_current} already current, ${groups.failed} failed; ` +
    `${report.deleted} letters deleted`
  );
}

const redriveCommand: CommandSpec = {
  name: "redrive",
  summary: "replay the batches the fan-out gave up on, from the stream, and delete their letters once converged",
  details: [
    "Reads every letter of the fan-out's on-failure destination (the SQS queue in AWS, .local/dead-letter.jsonl",
    "locally; both hold the Lambda invocation record: shard, first and last sequence numbers, stream). For each,",
    "reads that range back from the stream (GetShardIterator AT_SEQUENCE_NUMBER, GetRecords to the end sequence",
    "number) and runs its MSG row INSERTs through the fan-out itself (shared/fan-out.ts, what the Lambda runs):",
    "idempotent, so summaries that moved on meanwhile stay as they are. A letter is deleted only when every group",
    "of its range converged (moved, or already current); a group failing again keeps it, with the error.",
    "The stream keeps records 24 hours: a range no longer there (trimmed, shard gone) is reported `expired` and",
    "kept. Then run `fanout repair`, which recomputes every summary from the table, and `redrive --delete-expired`.",
    "Exit code 1 while letters are left (failed, expired and kept, unreadable); 0 when none are.",
  ],
  options: {
    "dry-run": {
      type: "boolean",
      description: "read the letters and their ranges, tell which groups would move; write and delete nothing",
    },
    "delete-expired": {
      type: "boolean",
      description: "delete the letters whose range has left the stream (after `fanout repair`)",
    },
  },
  uses: { table: true, queue: true },
  examples: [
    "redrive --dry-run",
    "redrive",
    "redrive --delete-expired",
    "redrive --prod --queue-url https://sqs.eu-west-1.amazonaws.com/123456789012/CruddurMessages-FanOutFailureQueue --progress",
  ],
  async run(ctx: CommandContext) {
    const target = await ctx.target();
    const { doc, streams } = await ctx.clients();
    const { queue, name, destroy } = failureQueue(target);
    const dryRun = ctx.flag("dry-run");
    ctx.note(
      `${dryRun ? "dry run: " : ""}redriving the ${name} into table ${target.tableName} on the ${describeTarget(target)}`,
    );
    let report: RedriveReport;
    try {
      const total = ctx.progress.active ? await queue.count() : undefined;
      ctx.progress.start("letters", { total, approximate: target.kind === "cloud", unit: "letters" });
      report = await redrive(
        { ddb: doc, tableName: target.tableName, streams, queue },
        {
          dryRun,
          deleteExpired: ctx.flag("delete-expired"),
          onLetter: (result) => {
            ctx.print(letterLine(result, dryRun));
            ctx.progress.tick();
          },
        },
      );
      ctx.progress.done();
    } finally {
      try {
        await queue.close();
      } finally {
        destroy();
      }
    }
    ctx.print(totalsLine(report));
    const expiredKept = report.expired - (ctx.flag("delete-expired") && !dryRun ? report.expired : 0);
    if (expiredKept > 0) {
      ctx.note(
        `${expiredKept} letters point to records the stream no longer holds (it keeps them 24 hours): they cannot be replayed.`,
      );
      ctx.note(
        `  hint: \`${commandLine(target, "fanout", "repair")}\` recomputes every summary from the table; then \`${commandLine(target, "fanout", "redrive --delete-expired")}\` removes those letters`,
      );
    }
    if (report.failed > 0) {
      ctx.note("  hint: a group that fails again is in the fan-out's logs too; fix the cause and run redrive again");
    }
    if (report.skipped > 0) {
      ctx.note(`  hint: ${report.skipped} letters are not pointers into this table's stream; look at them by hand`);
    }
    // Letters that stay (dry run: would stay): each needs the operator.
    return report.failed + expiredKept + report.skipped > 0 ? 1 : 0;
  },
};

/** How a drift kind reads in the output. */
const kindLabel = (kind: DriftKind) => kind.replace("_", " ");

const repairCommand: CommandSpec = {
  name: "repair",
  summary: "recompute every member's summary (GRP rows) from the group items and the newest messages; fix drifts",
  details: [
    "Scans the table once (keys only), then for each message group reads its group item and its newest MSG row",
    "(strongly consistent) and every GRP row that may hold its summaries, and reports each drift from what the",
    "fan-out would have made: missing (a member has no summary), duplicate (a second one, or one in a",
    "non-member's partition), stale (the group item or a summary shows an older message), wrong name (a summary",
    "names the other member otherwise than the group item). Each drifted group is fixed with the fan-out's own",
    "move: one transaction conditioned on the group item's last_message_sk and members being the ones read, so",
    "it is safe while messages are posted and users renamed (a group that moves meanwhile is read again), and it",
    "can never put a summary behind a newer message. Names come from the group item; names behind the user",
    "directory are `users refresh`'s job. Running it again finds nothing. Exit code 1 when problems were left",
    "alone (GRP rows of a group without a group item, a group without messages); 0 otherwise.",
  ],
  options: {
    "dry-run": { type: "boolean", description: "read everything and report the drifts; write nothing" },
    "page-size": { type: "string", value: "<n>", description: "items per Scan request (default: 1 MB pages)" },
  },
  uses: { table: true },
  examples: ["repair --dry-run", "repair", "repair --prod --table cruddur-messages --progress"],
  async run(ctx: CommandContext) {
    const target = await ctx.target();
    const { ddb, doc } = await ctx.clients();
    const dryRun = ctx.flag("dry-run");
    ctx.note(
      `${dryRun ? "dry run: " : ""}repairing the summaries of table ${target.tableName} on the ${describeTarget(target)}`,
    );
    const plan = new RepairPlan();
    const approximateItems = ctx.progress.active ? await approximateItemCount(ddb, target.tableName) : undefined;
    ctx.progress.start("scanning", { total: approximateItems, approximate: true, unit: "items" });
    let seen = 0;
    for await (const page of scanPages(doc, target.tableName, {
      pageSize: optionalInt(ctx, "page-size"),
      attributes: [PARTITION_KEY, SORT_KEY, GSI.partitionKey],
      onPage: (n) => {
        ctx.progress.tick(n - seen);
        seen = n;
      },
    })) {
      plan.add(page);
    }
    ctx.progress.done();
    ctx.progress.start("groups", { total: plan.groups.size, unit: "groups" });
    const report = await repairTable({ ddb: doc, tableName: target.tableName }, plan, {
      dryRun,
      onDrift: (d) => ctx.print(`${kindLabel(d.kind)}  ${d.key.pk} ${d.key.sk}  ${d.detail}`),
      onGroup: () => ctx.progress.tick(),
    });
    ctx.progress.done();
    const total = DRIFT_KINDS.reduce((n, k) => n + report.drifts[k], 0);
    const kinds = DRIFT_KINDS.map((k) => `${report.drifts[k]} ${kindLabel(k)}`).join(", ");
    ctx.print(
      `${dryRun ? "would fix" : "fixed"} ${total} drifts (${kinds}) in ${dryRun ? report.driftedGroups : report.fixedGroups} of ${report.groups} groups` +
        ` (${report.scanned} items scanned, ${report.retries} retries after concurrent writes)`,
    );
    return reportProblems(
      ctx,
      report.problems,
      "inspect those items with `npm run ddb -- scan`; every other group was repaired",
    );
  },
};

/** `npm run fanout -- <command>`. */
export const fanoutProgram: Program = {
  name: "fanout",
  summary: "recover the stream fan-out: replay the batches it gave up on (redrive), recompute the summaries (repair)",
  commands: [redriveCommand, repairCommand],
};
