/**
 * The small framework of the operator commands (`ddb`, `cognito`, `users`): subcommands with
 * options parsed by Node's `util.parseArgs` (no dependency), generated `--help`, the target
 * options every command shares, and the one error boundary that prints what is wrong and what to
 * do, with exit code 1 (2 for a wrong command line), never a stack trace unless `--debug`.
 */
import { parseArgs } from "node:util";
import { stateDirFromEnv } from "../../local/settings";
import { CONFIG_ENV } from "../../shared/config";
import { TABLE_NAME } from "../../shared/table";
import { explainError } from "./errors";
import { UsageError } from "./ops-errors";
import { Progress, type ProgressStream } from "./progress";
import { type Clients, createClients, resolveTarget, type Target } from "./target";

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
  /** Which target options it takes besides `--prod`/`--region`: `--table`, `--user-pool-id`. */
  uses: { table?: boolean; pool?: boolean };
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

const TARGET_OPTIONS: Record<string, OptionSpec> = {
  prod: {
    type: "boolean",
    description: "work on AWS (default credential chain and region) instead of the local stack",
  },
  region: { type: "string", value: "<region>", description: "AWS region with --prod (default: AWS_REGION / profile)" },
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
const COMMON_OPTIONS: Record<string, OptionSpec> = {
  progress: { type: "boolean", description: "show progress on stderr even when it is not a terminal" },
  debug: { type: "boolean", description: "print the stack trace of an unexpected error" },
  help: { type: "boolean", short: "h", description: "show this help" },
};

function optionsOf(command: CommandSpec): Record<string, OptionSpec> {
  return {
    ...(command.options ?? {}),
    ...TARGET_OPTIONS,
    ...(command.uses.table ? TABLE_OPTION : {}),
    ...(command.uses.pool ? POOL_OPTION : {}),
    ...COMMON_OPTIONS,
  };
}

type ParseOptions = Record<string, { type: "string" | "boolean"; short?: string }>;
const toParseOptions = (specs: Record<string, OptionSpec>): ParseOptions =>
  Object.fromEntries(
    Object.entries(specs).map(([name, s]) => [
      name,
      s.short === undefined ? { type: s.type } : { type: s.type, short: s.short },
    ]),
  );

function usageLine(program: Program, command: CommandSpec): string {
  const args = (command.args ?? []).map((a) => (a.optional ? `[${a.name}]` : `<${a.name}>`)).join(" ");
  return `npm run ${program.name} -- ${command.name}${args ? ` ${args}` : ""} [options]`;
}

/** The help of a program: its commands and how to get more. */
export function programHelp(program: Program): string {
  const width = Math.max(...program.commands.map((c) => c.name.length));
  return [
    `${program.name}: ${program.summary}`,
    "",
    `Usage: npm run ${program.name} -- <command> [options]`,
    "",
    "Commands:",
    ...program.commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    "",
    "Every command works on the local stack (`npm start`, read from .local/stack.json) unless --prod is given.",
    `Help on a command: npm run ${program.name} -- <command> --help`,
    "",
  ].join("\n");
}

/** The help of one command: usage, arguments, options and examples. */
export function commandHelp(program: Program, command: CommandSpec): string {
  const options = optionsOf(command);
  const flag = (name: string, s: OptionSpec) =>
    `${s.short === undefined ? "    " : `-${s.short}, `}--${name}${s.value === undefined ? "" : ` ${s.value}`}`;
  const flags = Object.entries(options).map(([name, s]) => [flag(name, s), s.description] as const);
  const width = Math.max(...flags.map(([f]) => f.length), ...(command.args ?? []).map((a) => a.name.length + 2));
  return [
    `${program.name} ${command.name}: ${command.summary}`,
    "",
    `Usage: ${usageLine(program, command)}`,
    ...(command.details === undefined ? [] : ["", ...command.details]),
    ...(command.args === undefined || command.args.length === 0
      ? []
      : ["", "Arguments:", ...command.args.map((a) => `  ${`<${a.name}>`.padEnd(width)}  ${a.description}`)]),
    "",
    "Options:",
    ...flags.map(([f, d]) => `  ${f.padEnd(width)}  ${d}`),
    "",
    "Examples:",
    ...command.examples.map((e) => `  npm run ${program.name} -- ${e}`),
    "",
  ].join("\n");
}

/**
 * Runs one command line of `program`.
 * @param argv the arguments after the program, e.g. `["scan", "--json"]`.
 * @returns the exit code: 0 done, 1 failed (message and hint on stderr), 2 wrong command line.
 */
export async function runCli(program: Program, argv: readonly string[], env: CliEnv): Promise<number> {
  const err = (line: string) => env.stderr.write(`${line}\n`);
  const all: Record<string, OptionSpec> = {};
  for (const c of program.commands) Object.assign(all, optionsOf(c));
  // First pass, lenient: find the command name (options may come before it).
  const first = parseArgs({ args: [...argv], options: toParseOptions(all), allowPositionals: true, strict: false });
  const name = first.positionals[0];
  if (name === undefined || name === "help") {
    const asked = first.values.help === true || name === "help";
    (asked ? env.stdout : env.stderr).write(programHelp(program));
    return asked ? 0 : 2;
  }
  const command = program.commands.find((c) => c.name === name);
  if (command === undefined) {
    err(`${program.name}: unknown command "${name}"`);
    err(`Commands: ${program.commands.map((c) => c.name).join(", ")} (npm run ${program.name} -- --help)`);
    return 2;
  }
  const prefix = `${program.name} ${command.name}`;

  let values: Record<string, string | boolean | undefined>;
  let args: string[];
  try {
    const parsed = parseArgs({
      args: [...argv],
      options: toParseOptions(optionsOf(command)),
      allowPositionals: true,
      strict: true,
    });
    values = parsed.values as Record<string, string | boolean | undefined>;
    args = parsed.positionals.slice(1);
  } catch (error) {
    // parseArgs explains how to pass a positional that starts with "-": not what went wrong here.
    const text = error instanceof Error ? (error.message.split(/\. To specify|\n/)[0] ?? "") : String(error);
    err(`${prefix}: ${text}`);
    err(`Usage: ${usageLine(program, command)} (see --help)`);
    return 2;
  }
  if (values.help === true) {
    env.stdout.write(commandHelp(program, command));
    return 0;
  }
  const specs = command.args ?? [];
  const required = specs.filter((a) => !a.optional).length;
  if (args.length < required || args.length > specs.length) {
    const missing = specs[args.length];
    err(
      `${prefix}: ${args.length < required && missing !== undefined ? `missing <${missing.name}>` : `unexpected argument "${args[specs.length]}"`}`,
    );
    err(`Usage: ${usageLine(program, command)} (see --help)`);
    return 2;
  }

  const progress = new Progress({ stream: env.stderr, force: values.progress === true });
  let target: Target | undefined;
  let clients: Clients | undefined;
  const ctx: CommandContext = {
    program: program.name,
    command: command.name,
    args,
    string: (n) => (typeof values[n] === "string" ? (values[n] as string) : undefined),
    flag: (n) => values[n] === true,
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
          prod: values.prod === true,
          table: ctx.string("table"),
          userPoolId: ctx.string("user-pool-id"),
          region: ctx.string("region"),
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
    const code = (await command.run(ctx)) ?? 0;
    progress.done();
    return code;
  } catch (error) {
    progress.done();
    if (error instanceof UsageError) {
      err(`${prefix}: ${error.message}`);
      err(`Usage: ${usageLine(program, command)} (see --help)`);
      return 2;
    }
    const { message, hint } = explainError(error, target);
    err(`${prefix}: ${message}`);
    if (hint !== undefined) err(`  hint: ${hint}`);
    if (values.debug === true && error instanceof Error && error.stack !== undefined) err(error.stack);
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
  // The SDK warns on every client that Node 20 support ends in 2027: the project pins Node 20
  // on purpose (see DESIGN.md), and the warning would bury the commands' own output.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";
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
