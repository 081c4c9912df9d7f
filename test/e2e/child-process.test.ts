/** Child process handling of the local stack, with real (tiny) processes. */
import { spawn } from "node:child_process";
import { once } from "node:events";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it, vi } from "vitest";
import {
  isRunning,
  manageProcess,
  reapStaleProcesses,
  recordProcesses,
  StateInUseError,
} from "../../local/child-process";
import { runningGroupMembers } from "../support/stack";
import { useTempDir } from "../support/temp-dir";

/** A detached shell (own process group) that ignores SIGTERM and runs `sleep` as its child. */
const stubborn = (marker: string) =>
  spawn("sh", ["-c", `trap '' TERM; sleep 30 & wait # ${marker}`], { detached: true, stdio: "pipe" });

/** The pid of a process that has exited. */
async function deadPid(): Promise<number> {
  const child = spawn("true");
  await once(child, "exit");
  return child.pid as number;
}

describe("child processes", () => {
  const tempDir = useTempDir("children-");

  it("stop() kills the whole process group, with SIGKILL when SIGTERM is ignored", async () => {
    const child = manageProcess("stubborn", "stubborn-1", stubborn("stubborn-1"));
    await new Promise((resolve) => setTimeout(resolve, 100));
    const started = performance.now();
    await child.stop(300);
    expect(performance.now() - started).toBeGreaterThanOrEqual(250);
    expect(child.hasExited()).toBe(true);
    expect(isRunning(child.pid)).toBe(false);
    // The `sleep` grandchild went with the group.
    await vi.waitFor(() => expect(runningGroupMembers(child.pid)).toEqual([]));
  });

  it("reaps the recorded children of a run whose owner is gone, and only those", async () => {
    const leftover = stubborn("leftover-2");
    const unrelated = stubborn("unrelated-3");
    const file = join(tempDir(), "pids.json");
    await writeFile(
      file,
      JSON.stringify({
        owner: await deadPid(),
        children: [
          { name: "leftover", pid: leftover.pid, marker: "leftover-2" },
          // A recycled pid: the process there does not show the recorded marker.
          { name: "recycled", pid: unrelated.pid, marker: "DynamoDBLocal.jar" },
        ],
      }),
    );
    expect(await reapStaleProcesses(file)).toEqual(["leftover"]);
    expect(isRunning(leftover.pid as number)).toBe(false);
    expect(isRunning(unrelated.pid as number)).toBe(true);
    await manageProcess("unrelated", "unrelated-3", unrelated).stop(100);
    expect(await reapStaleProcesses(file)).toEqual([]);
  });

  it("refuses to reap the children of an owner that still runs", async () => {
    const file = join(tempDir(), "owned.json");
    const owner = spawn("sleep", ["30"]);
    const child = manageProcess("stubborn", "stubborn-4", stubborn("stubborn-4"));
    try {
      await recordProcesses(file, [child]);
      const recorded = JSON.parse(await readFile(file, "utf8"));
      await writeFile(file, JSON.stringify({ ...recorded, owner: owner.pid }));
      await expect(reapStaleProcesses(file)).rejects.toThrow(StateInUseError);
      expect(isRunning(child.pid)).toBe(true);
    } finally {
      owner.kill();
      await child.stop(100);
    }
  });
});
