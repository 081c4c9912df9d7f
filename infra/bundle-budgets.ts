/**
 * The most each function bundle may weigh, minified (`index.mjs` as infra/bundling.ts builds it,
 * KiB = 1,024 bytes). `test/infra/bundles.test.ts` fails when a bundle grows past its budget: a
 * dependency that drags in more than it should shows up in review, not in a cold start. Change a
 * budget on purpose, in the commit that explains the growth.
 *
 * Set on 2026-12-02 at each bundle's size then plus about 3% (docs/performance.md, "Bundles"),
 * after the environment-only credentials alias (infra/env-credentials.ts), the fan-out without a
 * transaction (update-profile now carries `completePendingMove` of shared/fan-out.ts), one copy of
 * @smithy/core instead of two (package.json pinned 3.41.0 while @aws-sdk/core needs ^3.41.1, so
 * every bundle carried both: -34 KiB each), and then the schemas on `zod/mini` instead of classic
 * `zod` (issue 14's lever: the zod in a route bundle from 89 to 19 KiB, about -70 KiB each).
 * Lowered the same day for the eight route functions that read the user
 * directory, when its cache moved from lru-cache (19 KiB) to quick-lru (under 2 KiB): -15 KiB each.
 * Issue 14's target is 250 KiB each; only the two Cognito triggers (no zod) are there, so these budgets
 * hold the line while the rest of that work lands; the triggers' budget is the target.
 */
export const BUNDLE_BUDGETS_KIB: Readonly<Record<string, number>> = {
  "list-message-groups": 286,
  "mark-read": 284,
  "list-messages": 281,
  "create-message": 343,
  "get-user-short": 280,
  "update-profile": 334,
  "block-user": 281,
  "unblock-user": 280,
  "list-blocks": 280,
  "fan-out-messages": 283,
  "publish-events": 302,
  "pre-sign-up": 250,
  "post-confirmation": 250,
};

/** Issue 14's goal for every bundle, KiB minified. */
export const BUNDLE_TARGET_KIB = 250;
