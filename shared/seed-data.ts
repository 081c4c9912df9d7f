/**
 * Seed data: three users and one demo conversation between the first two, written by the local
 * stack on `npm start` and by `ddb seed` (locally or, with `--prod`, to AWS) through
 * `seedDemoConversation` of `shared/seed.ts`. The conversation is written for this project (two
 * engineers building and launching a messaging backend); `a` is andrewbrown and `b` is bayko.
 */

/** A user the local stack creates in cognito-local (and signs up in its directory). */
export interface SeedUser {
  handle: string;
  display_name: string;
  email: string;
  /** Satisfies PASSWORD_POLICY. */
  password: string;
}

/** The seeded users; passwords are for local use only and satisfy PASSWORD_POLICY. */
export const SEED_USERS = [
  {
    handle: "andrewbrown",
    display_name: "Andrew Brown",
    email: "andrewbrown@example.com",
    password: "Andrewbrown-local-1",
  },
  { handle: "bayko", display_name: "Andrew Bayko", email: "bayko@example.com", password: "Bayko-local-pass-2" },
  { handle: "londo", display_name: "Londo Mollari", email: "londo@example.com", password: "Londo-local-pass-3" },
] as const satisfies readonly SeedUser[];

/** The two members of the seeded conversation, by handle: `a` then `b`. */
export const SEED_CONVERSATION_MEMBERS = { a: "andrewbrown", b: "bayko" } as const;

/** Gap between two seeded messages, ms. */
export const SEED_MESSAGE_STEP_MS = 60_000;

/** How long before the start of the stack the last seeded message was sent, ms. */
export const SEED_LAST_MESSAGE_AGE_MS = 5 * 60_000;

/** The seeded conversation, oldest first. */
export const SEED_CONVERSATION: readonly { from: "a" | "b"; text: string }[] = [
  { from: "a", text: "Morning! Did you get a chance to read the messaging design doc?" },
  { from: "b", text: "Read it twice over coffee. Single table for everything, right?" },
  { from: "a", text: "Yes. Messages, conversation summaries and the group record all in one table." },
  { from: "b", text: "I like it. Fewer moving parts to provision." },
  { from: "a", text: "The trick is picking the keys so every screen is one query." },
  { from: "b", text: "Inbox is one partition per user, sorted by the last message time?" },
  { from: "a", text: "Exactly. And each conversation is its own partition sorted by created_at." },
  { from: "b", text: "What happens to the inbox row when a new message arrives? The sort key changes." },
  { from: "a", text: "You cannot update a key in place, so it is a put of the new row plus a delete of the old one." },
  { from: "b", text: "In one transaction, I hope." },
  { from: "a", text: "In one transaction, guarded by a version on the group record." },
  { from: "b", text: "Who does that write, the API call that posts the message?" },
  { from: "a", text: "No, the stream. The POST only writes the message row and returns." },
  { from: "b", text: "So the sender gets a fast answer and the inbox catches up a moment later." },
  { from: "a", text: "Usually well under a second." },
  { from: "b", text: "Streams deliver at least once though. Duplicates will show up." },
  { from: "a", text: "That is why the fan-out only ever moves a summary forward in time." },
  { from: "b", text: "So a replayed record finds a newer message already there and does nothing." },
  { from: "a", text: "Right. Idempotent by construction, no dedupe table needed." },
  { from: "b", text: "Nice. I will start on the handlers after standup." },
  { from: "a", text: "Keep them thin: parse the request, call the domain code, map the result." },
  { from: "b", text: "Zod for the request bodies?" },
  { from: "a", text: "Sounds good. Return every error code that applies, not just the first one." },
  { from: "b", text: "Snake case codes in a JSON array, like the frontend expects. Got it." },
  { from: "a", text: "How are you testing locally? I do not want everyone to need an AWS account." },
  { from: "b", text: "DynamoDB Local runs the real jar, streams included. No Docker needed, just Java." },
  { from: "a", text: "And auth?" },
  { from: "b", text: "cognito-local. It signs real JWTs and serves a JWKS, so we can verify tokens properly." },
  { from: "a", text: "Then the local API can check signatures exactly like the gateway authorizer would." },
  { from: "b", text: "That is the plan. One npm start and you have the whole backend." },
  { from: "a", text: "Can it seed a conversation so the UI is not empty on first load?" },
  { from: "b", text: "Already on my list. A hundred messages or so, one minute apart." },
  { from: "a", text: "Ha, make them about something more interesting than lorem ipsum." },
  { from: "b", text: "I will think of something." },
  { from: "a", text: "Pagination question: offset or cursor?" },
  { from: "b", text: "Cursor. An opaque token with the last sort key, handed back in a response header." },
  { from: "a", text: "Why a header and not the body?" },
  { from: "b", text: "The frontend already expects a bare array in the body. A header keeps it compatible." },
  { from: "a", text: "Fair. Do not forget to expose that header in CORS or the browser will hide it." },
  { from: "b", text: "Good catch, I would have lost an hour on that." },
  { from: "a", text: "Pushed the table definition. One module, everything else imports it." },
  { from: "b", text: "Pulled. The CDK stack reads it too?" },
  { from: "a", text: "Yes, same names, same index, same stream view type." },
  { from: "b", text: "First handler is green. Listing conversations works against the local table." },
  { from: "a", text: "Newest first?" },
  { from: "b", text: "Newest first, twenty per page, and the cursor round-trips." },
  { from: "a", text: "What happens if someone sends a cursor from another conversation?" },
  { from: "b", text: "Rejected. The cursor is scoped, and the partition comes from the request, never the cursor." },
  { from: "a", text: "Good, so a forged cursor cannot read someone else's messages." },
  { from: "b", text: "Now the fun one: starting a new conversation by handle." },
  { from: "a", text: "Two people might start the same conversation at the same moment." },
  { from: "b", text: "The group id is derived from both user ids, so both requests compute the same one." },
  { from: "a", text: "And a conditional put means only one of them creates it. Clean." },
  { from: "b", text: "The loser just posts into the group the winner created." },
  { from: "a", text: "Membership check on every read?" },
  { from: "b", text: "A consistent read of the group record. Not a member looks exactly like not found." },
  { from: "a", text: "Good, no leaking which conversations exist." },
  { from: "b", text: "Fan-out is in. Took three tries to get the transaction conditions right." },
  { from: "a", text: "What was wrong with the first two?" },
  { from: "b", text: "The first deleted the old summary before checking the version. A crash would lose it." },
  { from: "a", text: "And the second?" },
  { from: "b", text: "Read the old key from the index, which can lag. Now it comes from the group record." },
  { from: "a", text: "Did you try killing it halfway through?" },
  { from: "b", text: "Yes, threw an error between every step. The retry always converges." },
  { from: "a", text: "What about a record that can never succeed?" },
  { from: "b", text: "Bounded retries, then it goes to the failure queue. Nothing gets dropped silently." },
  { from: "a", text: "And one bad conversation does not block the rest of the batch?" },
  { from: "b", text: "Partial batch response. Only the failing records are retried." },
  { from: "a", text: "I ran the load test last night. Ten thousand messages, zero duplicate summaries." },
  { from: "b", text: "Latency?" },
  { from: "a", text: "Posting stays flat. The inbox trails by about a hundred milliseconds." },
  { from: "b", text: "Better than I expected. The VPC endpoint helps, no NAT in the path." },
  { from: "a", text: "Security review flagged the password policy. We were on the defaults." },
  { from: "b", text: "Twelve characters, all four character classes now. Fixed in the pool definition." },
  { from: "a", text: "And the lambdas only get the actions they actually use?" },
  { from: "b", text: "Each route lists its permissions next to its path. The stack grants exactly those." },
  { from: "a", text: "Love that it lives in one place." },
  { from: "b", text: "Staging deploy is up. Can you try it from the web app?" },
  { from: "a", text: "Signed in, inbox loads, sent you a message from my phone." },
  { from: "b", text: "Got it, and it moved to the top of my list. This is working!" },
  { from: "a", text: "One thing: an emoji counts as two characters in the length check." },
  { from: "b", text: "Ah, counting UTF-16 units. I will count code points instead." },
  { from: "a", text: "Thanks. Someone will absolutely send a thousand pizza emoji." },
  { from: "b", text: "Fixed and deployed. The limit is 1024 real characters now." },
  { from: "a", text: "Launch checklist: alarms, log retention, the dead letter queue alarm." },
  { from: "b", text: "Alarms are in. Logs are structured JSON with the request id on every line." },
  { from: "a", text: "Runbook for the failure queue?" },
  { from: "b", text: "Written. Inspect, fix the cause, redrive. The fan-out is idempotent so redrive is safe." },
  { from: "a", text: "I think we are ready." },
  { from: "b", text: "Launch at ten tomorrow?" },
  { from: "a", text: "Ten it is. I will post in the team channel." },
  { from: "b", text: "Morning. Traffic is ramping up, everything looks calm." },
  { from: "a", text: "Error rate is zero, p99 under a hundred milliseconds." },
  { from: "b", text: "Someone already started forty conversations. Probably testing us." },
  { from: "a", text: "Let them, that is what it is for." },
  { from: "b", text: "Throttling alarm just fired and cleared. Burst from one client." },
  { from: "a", text: "Did they get a 429 or a 500?" },
  { from: "b", text: "A clean 429 with a retry hint. The frontend backed off." },
  { from: "a", text: "Great. I was worried about that path." },
  { from: "b", text: "Nothing in the failure queue after the first hour." },
  { from: "a", text: "Lunch to celebrate?" },
  { from: "b", text: "Yes please. The noodle place?" },
  { from: "a", text: "Meet you downstairs in ten." },
  { from: "b", text: "Next sprint: read receipts?" },
  { from: "a", text: "Read receipts and typing indicators. Let us sketch the keys on Monday." },
  { from: "b", text: "Deal. Great work this week." },
];
