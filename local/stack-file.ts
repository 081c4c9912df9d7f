/**
 * `.local/stack.json`: what a client of the running local stack needs (written by `npm start`,
 * read by `npm run token` and by tools), and removed when the stack stops.
 */
import { readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { LocalStack } from "./stack";

/** The content of `stack.json`. */
export interface StackFile {
  apiUrl: string;
  cognitoEndpoint: string;
  region: string;
  userPoolId: string;
  userPoolClientId: string;
  tableName: string;
  dynamodbEndpoint: string;
  users: { username: string; handle: string; display_name: string; password: string }[];
}

/** Path of `stack.json` in a state directory. */
export const stackFilePath = (stateDir: string): string => join(stateDir, "stack.json");

/** Exactly the fields of {@link StackFile} of a running stack. */
export function toStackFile(stack: LocalStack): StackFile {
  return {
    apiUrl: stack.apiUrl,
    cognitoEndpoint: stack.cognitoEndpoint,
    region: stack.region,
    userPoolId: stack.userPoolId,
    userPoolClientId: stack.userPoolClientId,
    tableName: stack.tableName,
    dynamodbEndpoint: stack.dynamodbEndpoint,
    users: stack.users.map(({ username, handle, display_name, password }) => ({
      username,
      handle,
      display_name,
      password,
    })),
  };
}

export async function writeStackFile(stateDir: string, content: StackFile): Promise<void> {
  await writeFile(stackFilePath(stateDir), `${JSON.stringify(content, null, 2)}\n`);
}

/** @returns the stack file, or `undefined` when there is none (no stack running). */
export async function readStackFile(stateDir: string): Promise<StackFile | undefined> {
  try {
    return JSON.parse(await readFile(stackFilePath(stateDir), "utf8")) as StackFile;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw error;
  }
}

export async function removeStackFile(stateDir: string): Promise<void> {
  await rm(stackFilePath(stateDir), { force: true });
}
