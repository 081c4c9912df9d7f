/**
 * The command line of the operator commands (`ddb`, `cognito`, `users`) on commander:
 * subcommands, the global options every command shares, generated `--help` and exit codes. What
 * stays ours: the command definitions (`CommandSpec`), the context a command runs with
 * (`CommandContext`: target, clients, output, progress) and the one error boundary, which prints
 * what is wrong and what to do, with exit code 1 (2 for a wrong command line), never a stack
 * trace unless `--debug`.
 */
import { Command, CommanderError, Help, Option } from "commander";
import { stateDirFromEnv } from "../../local/state";
import { CONFIG_ENV } from "../../shared/config";
import { TABLE_NAME } from "../../shared/table";
import { explainError } from "./errors";
import { UsageError } from "./ops-errors";
import { Progress, type ProgressStream } from "./progress";
import { type Clients, createClients, FAILURE_QUEUE_URL_ENV, resolveTarget, type Target } from "./target";

/** An option of a command (`--name`). */
export interface OptionSpec {
  type: "string" | "boolean";
  short?: string;
  description: string;
  /** Placeholder of the value in the help, e.g. `<n>`. */
  value?: string;
}

/** A positional argument of a command. */
export interface ArgSpec {
  name: string;
  description: string;
  optional?: boolean;
}

/** One subcommand. */
export interface CommandSpec {
  name: string;
  /** One line for the program's command list. */
  summary: string;
  /** More help lines, printed under the usage line. */
  details?: readonly string[];
  args?: readonly ArgSpec[];
  options?: Readonly<Record<string, OptionSpec>>;
  /** Which target options it takes besides `--prod`/`--region`: `--table`, `--user-pool-id`, `--queue-url`. */
  uses: { table?: boolean; pool?: boolean; queue?: boolean };
  /** Command lines after `npm run <program> -- `. */
  examples: readonly string[];
  /** @returns the exit code (default 0). */
  run(ctx: CommandContext): Promise<number | undefined>;
}

/** A program: `npm run <name> -- <command> ...`. */
export interface Program {
  name: string;
  summary: string;
  commands: readonly CommandSpec[];
}

/** An output stream (process.stdout/stderr or a test double). */
export interface OutStream extends ProgressStream {
  write(chunk: string): unknown;
}

/** What a run of the CLI reads and writes; tests pass their own. */
export interface CliEnv {
  stdout: OutStream;
  stderr: OutStream;
  /** Where `stack.json` of the local stack is (default `.local/`). */
  stateDir: string;
  /** Environment (TABLE_NAME and USER_POOL_ID for `--prod`). */
  env: NodeJS.ProcessEnv;
}

/** What a command gets. */
export interface CommandContext {
  program: string;
  command: string;
  /** Positional arguments after the command name. */
  args: string[];
  /** A string option, or undefined when absent. */
  string(name: string): string | undefined;
  /** A boolean option. */
  flag(name: string): boolean;
  /**
   * An integer option.
   * @throws UsageError when it is not an integer within [min, max].
   */
  int(name: string, range: { min: number; max: number; default: number }): number;
  /** The target, resolved on first use (so `--help` and refusals never touch a stack). */
  target(): Promise<Target>;
  /** Clients of the target, built on first use and destroyed when the command ends. */
  clients(): Promise<Clients>;
  /** Progress on stderr (no-op unless stderr is a TTY or `--progress`). */
  progress: Progress;
  /** Prints a line of the command's output on stdout. */
  print(line: string): void;
  /** Prints a line of information for the operator on stderr (not part of the output). */
  note(line: string): void;
}

/** Options of every command, accepted before or after the command name. */
const GLOBAL_OPTIONS: Record<string, OptionSpec> = {
  prod: {
    type: "boolean",
    description: "work on AWS (default credential chain and region) instead of the local stack",
  },
  region: { type: "string", value: "<region>", description: "AWS region with --prod (default: AWS_REGION / profile)" },
  progress: { type: "boolean", description: "show progress on stderr even when it is not a terminal" },
  debug: { type: "boolean", description: "print the stack trace of an unexpected error" },
};
const TABLE_OPTION: Record<string, OptionSpec> = {
  table: {
    type: "string",
    value: "<name>",
    description: `table (default: the local stack's; with --prod ${CONFIG_ENV.tableName} or ${TABLE_NAME})`,
  },
};
const POOL_OPTION: Record<string, OptionSpec> = {
  "user-pool-id": {
    type: "string",
    value: "<id>",
    description: `user pool (default: the local stack's; with --prod ${CONFIG_ENV.userPoolId})`,
  },
};
const QUEUE_OPTION: Record<string, OptionSpec> = {
  "queue-url": {
    type: "string",
    value: "<url>",
    description: `with --prod: the fan-out's on-failure queue (default: ${FAILURE_QUEUE_URL_ENV}); locally the stack's dead-letter file`,
  },
};
const HELP_FLAGS = "-h, --help";
const HELP_DESCRIPTION = "show this help";

/** The options of a command besides the global ones: its own, then the target options it uses. */
function optionsOf(command: CommandSpec): Record<string, OptionSpec> {
  return {
    ...(command.options ?? {}),
    ...(command.uses.table ? TABLE_OPTION : {}),
    ...(command.uses.pool ? POOL_OPTION : {}),
    ...(command.uses.queue ? QUEUE_OPTION : {}),
  };
}

/** A commander option from our spec: `--name`, `--name <value>`, `-x, --name`. */
function toOption(name: string, spec: OptionSpec): Option {
  const short = spec.short === undefined ? "" : `-${spec.short}, `;
  const value = spec.type === "string" ? ` ${spec.value ?? "<value>"}` : "";
  return new Option(`${short}--${name}${value}`, spec.description);
}

function usageLine(program: Program, command: CommandSpec): string {
  const args = (command.args ?? []).map((a) => (a.optional ? `[${a.name}]` : `<${a.name}>`)).join(" ");
  return `npm run ${program.name} -- ${command.name}${args ? ` ${args}` : ""} [options]`;
}

/** Where help and commander's own messages go. */
interface HelpStreams {
  stdout: OutStream;
  stderr: OutStream;
}

/** Wrap width of the help: the terminal's, else wide enough that the help reads as written. */
const helpWidth = (stream: OutStream): number =>
  stream.isTTY === true && typeof stream.columns === "number" ? stream.columns : 120;

/** A built commander program and the spec behind each of its subcommands. */
interface Built {
  root: Command;
  specs: Map<Command, CommandSpec>;
}

/**
 * The commander program of `program`. `onRun` is the action of every subcommand; commander's
 * errors are thrown (exitOverride) as CommanderErrors, its error messages are not written
 * (runCli words them), its help goes to `streams`.
 */
function buildProgram(
  program: Program,
  streams: HelpStreams,
  onRun: (spec: CommandSpec, command: Command) => Promise<void>,
): Built {
  const specs = new Map<Command, CommandSpec>();
  const root = new Command(program.name)
    .summary(program.summary)
    .usage("<command> [options]")
    .exitOverride()
    .configureOutput({
      writeOut: (text) => streams.stdout.write(text),
      writeErr: (text) => streams.stderr.write(text),
      outputError: () => undefined,
      getOutHelpWidth: () => helpWidth(streams.stdout),
      getErrHelpWidth: () => helpWidth(streams.stderr),
      getOutHasColors: () => false,
      getErrHasColors: () => false,
    })
    .configureHelp({
      showGlobalOptions: true,
      sortSubcommands: false,
      // The command list names the commands; each one's help shows its arguments and options.
      subcommandTerm: (cmd) => cmd.name(),
      commandUsage: (cmd) => {
        const spec = specs.get(cmd);
        return spec === undefined ? `npm run ${program.name} -- <command> [options]` : usageLine(program, spec);
      },
      formatHelp(cmd, helper) {
        const body = Help.prototype.formatHelp.call(this, cmd, helper).trimEnd();
        const spec = specs.get(cmd);
        if (spec === undefined) {
          return [
            `${program.name}: ${program.summary}`,
            "",
            body,
            "",
            "Every command works on the local stack (`npm start`, read from .local/stack.json) unless --prod is given.",
            `Help on a command: npm run ${program.name} -- <command> --help`,
            "",
          ].join("\n");
        }
        return [
          `${program.name} ${spec.name}: ${spec.summary}`,
          "",
          body,
          "",
          "Examples:",
          ...spec.examples.map((e) => `  npm run ${program.name} -- ${e}`),
          "",
        ].join("\n");
      },
    })
    .helpOption(HELP_FLAGS, HELP_DESCRIPTION)
    .helpCommand("help [command]", "show the help of a command");
  for (const [name, spec] of Object.entries(GLOBAL_OPTIONS)) root.addOption(toOption(name, spec));

  for (const spec of program.commands) {
    // .command() copies the root's settings (output, help, exitOverride) to the subcommand.
    const sub = root
      .command(spec.name)
      .summary(spec.summary)
      .description((spec.details ?? []).join("\n"));
    for (const a of spec.args ?? []) sub.argument(a.optional ? `[${a.name}]` : `<${a.name}>`, a.description);
    for (const [name, option] of Object.entries(optionsOf(spec))) sub.addOption(toOption(name, option));
    sub.action(() => onRun(spec, sub));
    specs.set(sub, spec);
  }
  return { root, specs };
}

/** A stream that writes nothing (help rendered to a string). */
const NO_STREAM: OutStream = { write: () => true };

/** The help of a program: its commands, the global options and how to get more. */
export function programHelp(program: Program): string {
  const streams = { stdout: NO_STREAM, stderr: NO_STREAM };
  return buildProgram(program, streams, async () => undefined).root.helpInformation();
}

/** The help of one command: usage, details, arguments, options and examples. */
export function commandHelp(program: Program, command: CommandSpec): string {
  const streams = { stdout: NO_STREAM, stderr: NO_STREAM };
  const { specs } = buildProgram(program, streams, async () => undefined);
  const sub = [...specs].find(([, spec]) => spec === command)?.[0];
  if (sub === undefined) throw new Error(`${command.name} is not a command of ${program.name}`);
  return sub.helpInformation();
}

/** commander's message without its `error: ` prefix, starting with a capital as ours do. */
function commanderMessage(error: CommanderError): string {
  const text = error.message.replace(/^error: /, "");
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/**
 * Runs one command line of `program`.
 * @param argv the arguments after the program, e.g. `["scan", "--json"]`.
 * @returns the exit code: 0 done, 1 failed (message and hint on stderr), 2 wrong command line.
 */
export async function runCli(program: Program, argv: readonly string[], env: CliEnv): Promise<number> {
  const err = (line: string) => env.stderr.write(`${line}\n`);
  let code = 0;
  /** The subcommand commander is parsing, for the prefix of its errors. */
  let current: Command | undefined;
  const { root, specs } = buildProgram(program, env, async (spec, command) => {
    code = await runCommand(program, spec, command, env);
  });
  root.hook("preSubcommand", (_root, sub) => {
    current = sub;
  });
  try {
    await root.parseAsync([...argv], { from: "user" });
    return code;
  } catch (error) {
    if (!(error instanceof CommanderError)) throw error;
    if (error.code === "commander.helpDisplayed" || error.code === "commander.version") return 0;
    // Help without a command: on stderr, as a wrong command line (`help` itself exits 0).
    if (error.code === "commander.help") return error.exitCode === 0 ? 0 : 2;
    if (error.code === "commander.unknownCommand") {
      err(`${program.name}: unknown command "${root.args[0] ?? ""}"`);
      err(`Commands: ${program.commands.map((c) => c.name).join(", ")} (npm run ${program.name} -- --help)`);
      return 2;
    }
    const spec = current === undefined ? undefined : specs.get(current);
    if (spec === undefined || current === undefined) {
      err(`${program.name}: ${commanderMessage(error)}`);
      err(`Usage: npm run ${program.name} -- <command> [options] (see --help)`);
      return 2;
    }
    const declared = spec.args ?? [];
    const given = current.args;
    const text =
      error.code === "commander.missingArgument"
        ? `missing <${declared[given.length]?.name ?? "argument"}>`
        : error.code === "commander.excessArguments"
          ? `unexpected argument "${given[declared.length] ?? ""}"`
          : commanderMessage(error);
    err(`${program.name} ${spec.name}: ${text}`);
    err(`Usage: ${usageLine(program, spec)} (see --help)`);
    return 2;
  }
}

/**
 * Runs one parsed command with its context: the error boundary of the commands.
 * @returns the exit code: the command's (default 0), 1 when it failed, 2 on a UsageError.
 */
async function runCommand(program: Program, spec: CommandSpec, command: Command, env: CliEnv): Promise<number> {
  const err = (line: string) => env.stderr.write(`${line}\n`);
  const prefix = `${program.name} ${spec.name}`;
  /** Options by their command-line name (`user-pool-id`), globals included. */
  const values = new Map<string, unknown>();
  const all = command.optsWithGlobals<Record<string, unknown>>();
  for (const option of [...command.options, ...(command.parent?.options ?? [])]) {
    values.set(option.name(), all[option.attributeName()]);
  }
  const progress = new Progress({ stream: env.stderr, force: values.get("progress") === true });
  let target: Target | undefined;
  let clients: Clients | undefined;
  const ctx: CommandContext = {
    program: program.name,
    command: spec.name,
    args: [...command.args],
    string: (n) => {
      const value = values.get(n);
      return typeof value === "string" ? value : undefined;
    },
    flag: (n) => values.get(n) === true,
    int(n, range) {
      const text = ctx.string(n);
      if (text === undefined) return range.default;
      const value = /^-?\d+$/.test(text) ? Number(text) : Number.NaN;
      if (!(value >= range.min && value <= range.max)) {
        throw new UsageError(`--${n} must be an integer from ${range.min} to ${range.max}, got "${text}"`);
      }
      return value;
    },
    async target() {
      target ??= await resolveTarget(
        {
          prod: ctx.flag("prod"),
          table: ctx.string("table"),
          userPoolId: ctx.string("user-pool-id"),
          region: ctx.string("region"),
          queueUrl: ctx.string("queue-url"),
        },
        env.stateDir,
        env.env,
      );
      return target;
    },
    async clients() {
      clients ??= createClients(await ctx.target());
      return clients;
    },
    progress,
    // Output to a file or a pipe never meets the progress line; output to the terminal must not mix with it.
    print: (line) =>
      env.stdout.isTTY === true ? progress.around(() => env.stdout.write(`${line}\n`)) : env.stdout.write(`${line}\n`),
    note: (line) => progress.around(() => env.stderr.write(`${line}\n`)),
  };

  try {
    const code = (await spec.run(ctx)) ?? 0;
    progress.done();
    return code;
  } catch (error) {
    progress.done();
    if (error instanceof UsageError) {
      err(`${prefix}: ${error.message}`);
      err(`Usage: ${usageLine(program, spec)} (see --help)`);
      return 2;
    }
    const { message, hint } = explainError(error, target);
    err(`${prefix}: ${message}`);
    if (hint !== undefined) err(`  hint: ${hint}`);
    if (ctx.flag("debug") && error instanceof Error && error.stack !== undefined) err(error.stack);
    return 1;
  } finally {
    clients?.destroy();
  }
}

/**
 * Entry point of a `bin/` script: runs `process.argv` against the local stack's state directory
 * and sets the exit code. A closed stdout (`| head`) ends the command quietly.
 */
export async function main(program: Program): Promise<void> {
  process.stdout.on("error", (error: NodeJS.ErrnoException) => {
    if (error.code === "EPIPE") process.exit(process.exitCode ?? 0);
    throw error;
  });
  process.exitCode = await runCli(program, process.argv.slice(2), {
    stdout: process.stdout,
    stderr: process.stderr,
    stateDir: stateDirFromEnv(),
    env: process.env,
  });
}
