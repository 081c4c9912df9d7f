/**
 * Test users and an in-memory users directory. The integration tier exercises the domain with
 * this directory; the real Cognito path (cognito-local) is exercised end to end in test/e2e.
 */
import { randomUUID } from "node:crypto";
import type { UserProfile } from "../../shared/model";
import type { UserDirectory } from "../../shared/users";

/** A user with a fresh uuid. */
export function makeUser(handle: string, displayName = handle): UserProfile {
  return { uuid: randomUUID(), handle, display_name: displayName };
}

/** A directory that knows exactly `users`. */
export function directoryOf(...users: UserProfile[]): UserDirectory {
  return {
    async profile(uuid) {
      return users.find((u) => u.uuid === uuid);
    },
    async caller(claims) {
      const user = users.find((u) => u.uuid === claims.sub);
      if (user === undefined) throw new Error(`unknown test caller ${claims.sub}`);
      return user;
    },
    async byHandle(handle) {
      return users.find((u) => u.handle === handle);
    },
  };
}
