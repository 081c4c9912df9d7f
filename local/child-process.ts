/**
 * Child processes of the local stack (DynamoDB Local, cognito-local). Each runs in its own
 * process group (spawned `detached`), so stopping it kills the whole group and leaves no orphan
 * behind; a safety net kills every group still running when this process exits. The pids are
 * recorded in a file, with the pid of their owner (this process), so that the next start can
 * reap the children of a run that was killed with SIGKILL (which runs no handler) before they
 * block its ports, and can tell such leftovers from the children of a stack still running.
 */
import type { ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import { readFile, rm, writeFile } from "node:fs/promises";
import { setTimeout as sleep } from "node:timers/promises";

/** Output kept per process for error messages, characters. */
const OUTPUT_TAIL_CHARS = 8192;

/** A running child process in its own process group. */
export interface ManagedProcess {
  readonly name: string;
  readonly pid: number;
  /** A string on the process's command line that identifies it (to recognise it when reaping). */
  readonly marker: string;
  /** Resolves when the process has exited. */
  readonly exited: Promise<void>;
  /** True once the process has exited. */
  hasExited(): boolean;
  /** The last output (stdout and stderr) of the process, for error messages. */
  outputTail(): string;
  /**
   * Stops the process group: SIGTERM, then SIGKILL after `graceMs` (default 5000 ms).
   * Resolves when the process has exited; stopping an exited process does nothing.
   */
  stop(graceMs?: number): Promise<void>;
}

const running = new Set<ManagedProcess>();
let exitHookInstalled = false;

function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ESRCH") throw error;
  }
}

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on("exit", () => {
    for (const child of running) killGroup(child.pid, "SIGKILL");
  });
}

/**
 * Takes charge of a child spawned with `detached: true` (so its pid is its process group id)
 * and `stdio: "pipe"`; its output is kept (tail only), not forwarded.
 * @throws Error when the child has no pid (spawn failed).
 */
export function manageProcess(name: string, marker: string, child: ChildProcess): ManagedProcess {
  const pid = child.pid;
  if (pid === undefined) throw new Error(`${name}: spawn failed (no pid)`);
  let tail = "";
  const keep = (chunk: Buffer) => {
    tail = (tail + chunk.toString("utf8")).slice(-OUTPUT_TAIL_CHARS);
  };
  child.stdout?.on("data", keep);
  child.stderr?.on("data", keep);
  let exitedFlag = child.exitCode !== null || child.signalCode !== null;
  const exited = exitedFlag
    ? Promise.resolve()
    : new Promise<void>((resolve) => {
        child.once("exit", () => {
          exitedFlag = true;
          resolve();
        });
      });
  const managed: ManagedProcess = {
    name,
    pid,
    marker,
    exited,
    hasExited: () => exitedFlag,
    outputTail: () => tail,
    async stop(graceMs = 5000) {
      if (!exitedFlag) {
        killGroup(pid, "SIGTERM");
        const timer = setTimeout(() => killGroup(pid, "SIGKILL"), graceMs);
        await exited;
        clearTimeout(timer);
      }
      // Anything the child left in its group goes too.
      killGroup(pid, "SIGKILL");
      running.delete(managed);
    },
  };
  running.add(managed);
  void exited.then(() => running.delete(managed));
  installExitHook();
  return managed;
}

interface PidFile {
  /** Pid of the process that started the children. */
  owner: number;
  children: { name: string; pid: number; marker: string }[];
}

/** Records this process and the pids of `processes` in `file` (JSON), for {@link reapStaleProcesses}. */
export async function recordProcesses(file: string, processes: readonly ManagedProcess[]): Promise<void> {
  const content: PidFile = {
    owner: process.pid,
    children: processes.map(({ name, pid, marker }) => ({ name, pid, marker })),
  };
  await writeFile(file, `${JSON.stringify(content, null, 2)}\n`);
}

/** Removes the pid file written by {@link recordProcesses}. */
export async function forgetProcesses(file: string): Promise<void> {
  await rm(file, { force: true });
}

function commandLine(pid: number): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").replaceAll("\0", " ");
  } catch {
    return undefined;
  }
}

/** True while `pid` runs; a zombie (exited, not yet reaped, e.g. an orphan under a lazy init) does not. */
export function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EPERM") return false;
  }
  try {
    // Field 3 of /proc/<pid>/stat is the state; the command name before it is in parentheses.
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) !== "Z";
  } catch {
    return true;
  }
}

/** Thrown when the pid file belongs to a process that still runs (another stack on the same state). */
export class StateInUseError extends Error {
  override name = "StateInUseError";
}

/**
 * Kills the process groups recorded in `file` by a previous run that ended without stopping
 * them, when they still run and their command line still shows their marker (so a recycled pid
 * of an unrelated process is left alone; where `/proc` is missing nothing is killed). Waits up
 * to 5000 ms for them to exit, then removes the file.
 * @returns the names of the processes that were killed.
 * @throws StateInUseError when the process that recorded them still runs.
 */
export async function reapStaleProcesses(file: string): Promise<string[]> {
  let recorded: PidFile;
  try {
    recorded = JSON.parse(await readFile(file, "utf8")) as PidFile;
  } catch {
    return [];
  }
  if (recorded.owner !== process.pid && isRunning(recorded.owner)) {
    throw new StateInUseError(`another local stack (pid ${recorded.owner}) runs on this state (${file})`);
  }
  const stale = (recorded.children ?? []).filter((r) => commandLine(r.pid)?.includes(r.marker) === true);
  for (const r of stale) killGroup(r.pid, "SIGKILL");
  for (let waited = 0; waited < 5000 && stale.some((r) => isRunning(r.pid)); waited += 50) await sleep(50);
  await forgetProcesses(file);
  return stale.map((r) => r.name);
}
