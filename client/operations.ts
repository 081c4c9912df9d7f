/**
 * The operations of the HTTP API the client calls, by operationId of docs/openapi.json: method and
 * path template. `test/unit/client-contract.test.ts` checks this table against the document: every
 * operation of the document is here, with the same method and path, and nothing else.
 */
export const OPERATIONS = {
  listMessageGroups: { method: "GET", path: "/api/message_groups" },
  markRead: { method: "POST", path: "/api/message_groups/{message_group_uuid}/read" },
  listMessages: { method: "GET", path: "/api/messages/{message_group_uuid}" },
  createMessage: { method: "POST", path: "/api/messages" },
  getUserShort: { method: "GET", path: "/api/users/{handle}/short" },
  updateProfile: { method: "PATCH", path: "/api/users/me" },
  blockUser: { method: "POST", path: "/api/users/{handle}/block" },
  unblockUser: { method: "DELETE", path: "/api/users/{handle}/block" },
  listBlocks: { method: "GET", path: "/api/users/me/blocks" },
} as const;

export type OperationId = keyof typeof OPERATIONS;

/**
 * The path of `operation` with each `{name}` replaced by `params[name]`, URI-encoded (a handle is
 * passed with its `@`, as the Cruddur frontend sends it).
 * @throws Error when a parameter of the template is missing.
 */
export function operationPath(operation: OperationId, params: Readonly<Record<string, string>> = {}): string {
  return OPERATIONS[operation].path.replace(/\{([a-z_]+)\}/g, (_, name: string) => {
    const value = params[name];
    if (value === undefined) throw new Error(`${operation}: missing path parameter ${name}`);
    return encodeURIComponent(value);
  });
}
