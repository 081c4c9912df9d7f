/**
 * The local on-failure destination: one line of JSON per batch the fan-out gave up on, appended
 * to a file, so nothing is dropped silently. Each line is the invocation record the cloud's
 * event-source mapping sends to its SQS on-failure queue (`shared/on-failure.ts`: a pointer to
 * the batch in the stream, not the records), so `npm run fanout -- redrive` reads both the same
 * way. For the operator reading the file, a line also carries `local`: the last error and the
 * keys of the records of the batch. Where the file of a stack is: `deadLetterFilePath` of
 * `local/state.ts`.
 *
 * The stream poller (in `npm start`) appends while `fanout redrive` (another process) removes
 * the letters it replayed, so both take a lock first (a directory next to the file, created
 * atomically): a removal rewrites the file and must not lose a line appended meanwhile.
 */
import { appendFile, mkdir, readFile, rename, rmdir, stat, writeFile } from "node:fs/promises";
import type { InvocationRecord } from "../shared/on-failure";

/** What the local file adds to the invocation record, for the operator. */
export interface LocalFailureDetails {
  /** Why: the last error (`<name>: <message>`), `batch_item_failures`, or `record_too_old`. */
  reason: string;
  /** The records of the batch, in stream order. */
  records: { sequence_number: string; pk: string | undefined; sk: string | undefined }[];
}

/** One line of the dead-letter file. */
export type DeadLetter = InvocationRecord & { local?: LocalFailureDetails };

/** How long a lock may be held before it is taken as left by a killed process, ms. */
const STALE_LOCK_MS = 10_000;
/** Longest wait for the lock, ms. */
const LOCK_TIMEOUT_MS = 15_000;

const lockPath = (file: string) => `${file}.lock`;

/**
 * Runs `fn` holding the lock of `file`.
 * @throws Error when the lock cannot be taken within LOCK_TIMEOUT_MS.
 */
async function withLock<T>(file: string, fn: () => Promise<T>): Promise<T> {
  const lock = lockPath(file);
  const deadline = Date.now() + LOCK_TIMEOUT_MS;
  for (;;) {
    try {
      await mkdir(lock);
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
      const held = await stat(lock).then(
        (s) => Date.now() - s.mtimeMs,
        () => 0,
      );
      if (held > STALE_LOCK_MS) await rmdir(lock).catch(() => undefined);
      else if (Date.now() > deadline) throw new Error(`dead-letter file ${file} is locked (${lock})`);
      else await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }
  try {
    return await fn();
  } finally {
    await rmdir(lock).catch(() => undefined);
  }
}

/** Appends `letters` to `file` (created when missing). */
export async function appendDeadLetters(file: string, letters: readonly DeadLetter[]): Promise<void> {
  if (letters.length === 0) return;
  await withLock(file, () => appendFile(file, letters.map((l) => `${JSON.stringify(l)}\n`).join("")));
}

/** The lines of `file` that hold something; empty when the file does not exist. */
async function readLines(file: string): Promise<string[]> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw error;
  }
  return text.split("\n").filter((line) => line.trim() !== "");
}

/**
 * The lines of `file`, oldest first, as text (the redrive parses and checks each one); empty when
 * the file does not exist (nothing was given up).
 * @throws file-system errors other than ENOENT.
 */
export async function readDeadLetterLines(file: string): Promise<string[]> {
  return readLines(file);
}

/**
 * The letters of `file`, oldest first; empty when the file does not exist (nothing was given up).
 * @throws file-system errors other than ENOENT; SyntaxError when a line is not JSON.
 */
export async function readDeadLetters(file: string): Promise<DeadLetter[]> {
  return (await readLines(file)).map((line) => JSON.parse(line) as DeadLetter);
}

/**
 * Removes the lines `lines` (exact text, as {@link readDeadLetterLines} gave them) from `file`,
 * under the lock, keeping every other line (also those appended since they were read). The file is
 * rewritten through a temporary file and a rename, so a crash leaves the old or the new content.
 * @returns how many lines were removed.
 */
export async function removeDeadLetterLines(file: string, lines: readonly string[]): Promise<number> {
  if (lines.length === 0) return 0;
  return withLock(file, async () => {
    const remove = new Set(lines);
    const current = await readLines(file);
    const kept = current.filter((line) => !remove.has(line));
    if (kept.length === current.length) return 0;
    const temp = `${file}.${process.pid}.tmp`;
    await writeFile(temp, kept.map((line) => `${line}\n`).join(""));
    await rename(temp, file);
    return current.length - kept.length;
  });
}
