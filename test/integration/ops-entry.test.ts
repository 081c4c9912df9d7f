/**
 * The `bin/` entry points as `npm run ddb|cognito|users` runs them (tsx, a child process): exit
 * codes, and messages without stack traces. Only command lines that touch no service are run
 * here (the entry points read the repository's own `.local/stack.json`); the commands' work is
 * tested through `runCli` in the other ops-*.test.ts files.
 */
import { execFile } from "node:child_process";
import { describe, expect, it } from "vitest";
import { REPO_ROOT } from "../../local/settings";

interface Exit {
  code: number;
  stdout: string;
  stderr: string;
}

function npmRun(script: "ddb" | "cognito" | "users", args: string[]): Promise<Exit> {
  const env = { ...process.env, USER_POOL_ID: "", TABLE_NAME: "" };
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ["--import", "tsx", `bin/${script}.ts`, ...args],
      { cwd: REPO_ROOT, env, timeout: 30_000 },
      (error, stdout, stderr) => {
        resolve({ code: error === null ? 0 : Number(error.code ?? 1), stdout, stderr });
      },
    );
  });
}

const noStackTrace = (text: string) => expect(text).not.toMatch(/\n\s+at \S/);

describe("bin entry points", () => {
  it("--help exits 0 for each program", async () => {
    const results = await Promise.all([
      npmRun("ddb", ["--help"]),
      npmRun("cognito", ["list-users", "--help"]),
      npmRun("users", ["refresh", "--help"]),
    ]);
    for (const r of results) expect(r).toMatchObject({ code: 0, stderr: "" });
    expect(results[0]?.stdout).toContain("Usage: npm run ddb -- <command> [options]");
    expect(results[1]?.stdout).toContain("Usage: npm run cognito -- list-users [options]");
    expect(results[2]?.stdout).toContain("--dry-run");
  });

  it("exits 2 on a wrong command line and 1 on a refused or impossible command, never with a stack trace", async () => {
    const [usage, refused, noPool] = await Promise.all([
      npmRun("ddb", ["nope"]),
      npmRun("ddb", ["drop", "cruddur-messages", "--prod"]),
      npmRun("cognito", ["list-users", "--prod"]),
    ]);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain('ddb: unknown command "nope"');
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain("--yes-delete-cloud-table");
    expect(noPool.code).toBe(1);
    expect(noPool.stderr).toContain("cognito list-users: no user pool given");
    for (const r of [usage, refused, noPool]) {
      expect(r.stdout).toBe("");
      noStackTrace(r.stderr);
    }
  });
});
