/**
 * The typed client of the HTTP API (docs/openapi.json): one method per operation, the cursor
 * paging as async iterators, every non-2xx answer thrown as an {@link ApiError} with its codes,
 * and retries with jittered backoff. Uses only `fetch` (browsers, Node 18+, workers).
 */
import { backoffDelay, sleep } from "./backoff";
import { ApiError, errorCodesOf, NetworkError } from "./errors";
import { OPERATIONS, type OperationId, operationPath } from "./operations";
import type {
  BlockView,
  CreatedMessageView,
  MarkReadView,
  MessageGroupView,
  MessageView,
  Page,
  PageOptions,
  ProfileChange,
  SendTarget,
  UserProfile,
} from "./types";

/** The request header of an idempotent send (IETF httpapi draft "The Idempotency-Key HTTP Header Field"). */
export const IDEMPOTENCY_KEY_HEADER = "Idempotency-Key";
/** The response header of the next page's cursor. */
export const NEXT_CURSOR_HEADER = "x-next-cursor";

export interface RetryOptions {
  /** Tries in all, the first included (default 4). */
  attempts?: number;
  /** Ceiling of the first backoff, ms (default 200). */
  baseDelayMs?: number;
  /** Largest wait between two tries, ms, a `Retry-After` included (default 5,000). */
  maxDelayMs?: number;
}

export interface ClientOptions {
  /** The API's origin, e.g. `http://127.0.0.1:4567` (`apiUrl` of stack.json, `ApiUrl` of the CDK outputs); no trailing `/api`. */
  apiUrl: string;
  /** The caller's Cognito access token, asked before each request (so a refreshed one is used). */
  accessToken?: () => string | undefined | Promise<string | undefined>;
  /** The fetch to use (default `globalThis.fetch`). */
  fetch?: typeof fetch;
  retry?: RetryOptions;
  /** Makes the `Idempotency-Key` of a send (default `crypto.randomUUID()`). */
  newIdempotencyKey?: () => string;
  /** A number in [0, 1) for the backoff jitter (default `Math.random`). */
  random?: () => number;
}

/** Per-call options. */
export interface CallOptions {
  signal?: AbortSignal;
}

export interface SendOptions extends CallOptions {
  /** The send's `Idempotency-Key` (default: a new uuid, reused by every retry of this call). */
  idempotencyKey?: string;
}

interface Answer {
  body: unknown;
  headers: Headers;
}

interface RequestSpec {
  params?: Record<string, string>;
  query?: PageOptions;
  body?: unknown;
  headers?: Record<string, string>;
  /** False for the public profile: no Authorization header. */
  auth?: boolean;
  signal?: AbortSignal | undefined;
}

const withAt = (handle: string): string => (handle.startsWith("@") ? handle : `@${handle}`);

/**
 * A client of one API for one caller. Every method throws {@link ApiError} for a non-2xx answer
 * (after the retries, for the retried ones) and {@link NetworkError} when no answer came.
 *
 * Retried, with the same request: no answer, a 5xx, 429 `throttled` and 409
 * `idempotency_request_in_progress`, waiting the jittered backoff or the answer's `Retry-After`,
 * whichever is longer, up to `maxDelayMs`. Every operation is safe to repeat: reads, the read
 * marker (only moves forward), blocks, renames (idempotent), and sends, which carry an
 * `Idempotency-Key` that every retry reuses (a retry answers the first answer, posts nothing).
 * 429 `rate_limited` is not retried (its `Retry-After` is the caller's to honour).
 */
export class CruddurClient {
  private readonly apiUrl: string;
  private readonly fetchImpl: typeof fetch;
  private readonly attempts: number;
  private readonly baseDelayMs: number;
  private readonly maxDelayMs: number;

  constructor(private readonly options: ClientOptions) {
    this.apiUrl = options.apiUrl.replace(/\/+$/, "");
    this.fetchImpl = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
    this.attempts = Math.max(1, options.retry?.attempts ?? 4);
    this.baseDelayMs = options.retry?.baseDelayMs ?? 200;
    this.maxDelayMs = options.retry?.maxDelayMs ?? 5000;
  }

  // -- messages ------------------------------------------------------------------------------

  /** One page of the caller's conversations, the most recent activity first (pattern B). */
  async listMessageGroups(page: PageOptions = {}, options: CallOptions = {}): Promise<Page<MessageGroupView>> {
    return this.page<MessageGroupView>("listMessageGroups", { query: page, signal: options.signal });
  }

  /** Every conversation of the caller, the most recent activity first, fetching pages as the loop asks. */
  messageGroups(page: Omit<PageOptions, "cursor"> = {}, options: CallOptions = {}): AsyncIterable<MessageGroupView> {
    return items(this.pages((cursor) => this.listMessageGroups({ ...page, ...cursor }, options)));
  }

  /** One page of a group's messages (pattern A): the newest page first, each page oldest first. */
  async listMessages(
    messageGroupUuid: string,
    page: PageOptions = {},
    options: CallOptions = {},
  ): Promise<Page<MessageView>> {
    return this.page<MessageView>("listMessages", {
      params: { message_group_uuid: messageGroupUuid },
      query: page,
      signal: options.signal,
    });
  }

  /** The pages of a group's messages, newest page first, each oldest first (as the API answers). */
  messagePages(
    messageGroupUuid: string,
    page: Omit<PageOptions, "cursor"> = {},
    options: CallOptions = {},
  ): AsyncIterable<Page<MessageView>> {
    return this.pages((cursor) => this.listMessages(messageGroupUuid, { ...page, ...cursor }, options));
  }

  /**
   * Posts a message to a group or to a handle (patterns C and D), with an `Idempotency-Key` (given,
   * or a new uuid) that every retry of this call reuses: however many tries, one message.
   * @throws ApiError e.g. 422 `message_blank`, 403 `cannot_message_user`, 429 `rate_limited`.
   */
  async sendMessage(target: SendTarget, message: string, options: SendOptions = {}): Promise<CreatedMessageView> {
    const key = options.idempotencyKey ?? this.options.newIdempotencyKey?.() ?? globalThis.crypto.randomUUID();
    const body =
      target.message_group_uuid !== undefined
        ? { message, message_group_uuid: target.message_group_uuid }
        : { message, handle: target.handle };
    const answer = await this.call("createMessage", {
      body,
      headers: { [IDEMPOTENCY_KEY_HEADER]: key },
      signal: options.signal,
    });
    return answer.body as CreatedMessageView;
  }

  /** Moves the caller's read marker to `messageUuid` (default: the group's newest message); never backwards. */
  async markRead(messageGroupUuid: string, messageUuid?: string, options: CallOptions = {}): Promise<MarkReadView> {
    const answer = await this.call("markRead", {
      params: { message_group_uuid: messageGroupUuid },
      body: messageUuid === undefined ? {} : { message_uuid: messageUuid },
      signal: options.signal,
    });
    return answer.body as MarkReadView;
  }

  // -- users ---------------------------------------------------------------------------------

  /** A user's public profile, with or without the `@` (no token sent). @throws ApiError 404 `user_not_found`. */
  async getUserShort(handle: string, options: CallOptions = {}): Promise<UserProfile> {
    const answer = await this.call("getUserShort", {
      params: { handle: withAt(handle) },
      auth: false,
      signal: options.signal,
    });
    return answer.body as UserProfile;
  }

  /** Renames the caller. @throws ApiError 409 `handle_taken`, 422 `handle_invalid`... */
  async updateProfile(change: ProfileChange, options: CallOptions = {}): Promise<UserProfile> {
    const answer = await this.call("updateProfile", { body: change, signal: options.signal });
    return answer.body as UserProfile;
  }

  /** Blocks a user (again: nothing changes). @throws ApiError 404 `handle_not_found`, 422 `cannot_block_self`. */
  async blockUser(handle: string, options: CallOptions = {}): Promise<BlockView> {
    const answer = await this.call("blockUser", { params: { handle: withAt(handle) }, signal: options.signal });
    return answer.body as BlockView;
  }

  /** Unblocks a user (also when not blocked). */
  async unblockUser(handle: string, options: CallOptions = {}): Promise<void> {
    await this.call("unblockUser", { params: { handle: withAt(handle) }, signal: options.signal });
  }

  /** One page of the users the caller blocks. */
  async listBlocks(page: PageOptions = {}, options: CallOptions = {}): Promise<Page<BlockView>> {
    return this.page<BlockView>("listBlocks", { query: page, signal: options.signal });
  }

  /** Every user the caller blocks, fetching pages as the loop asks. */
  blocks(page: Omit<PageOptions, "cursor"> = {}, options: CallOptions = {}): AsyncIterable<BlockView> {
    return items(this.pages((cursor) => this.listBlocks({ ...page, ...cursor }, options)));
  }

  // -- plumbing ------------------------------------------------------------------------------

  private async page<T>(operation: OperationId, spec: RequestSpec): Promise<Page<T>> {
    const answer = await this.call(operation, spec);
    return { items: answer.body as T[], cursor: answer.headers.get(NEXT_CURSOR_HEADER) ?? undefined };
  }

  /** The pages `fetchPage` gives, following each page's cursor until the last. */
  private async *pages<T>(fetchPage: (cursor: { cursor?: string }) => Promise<Page<T>>): AsyncGenerator<Page<T>> {
    let cursor: string | undefined;
    do {
      const page = await fetchPage(cursor === undefined ? {} : { cursor });
      yield page;
      cursor = page.cursor;
    } while (cursor !== undefined);
  }

  private async call(operation: OperationId, spec: RequestSpec): Promise<Answer> {
    const { method } = OPERATIONS[operation];
    const search = new URLSearchParams();
    if (spec.query?.limit !== undefined) search.set("limit", String(spec.query.limit));
    if (spec.query?.cursor !== undefined) search.set("cursor", spec.query.cursor);
    const queryText = search.toString();
    const query = queryText === "" ? "" : `?${queryText}`;
    const url = `${this.apiUrl}${operationPath(operation, spec.params)}${query}`;
    for (let attempt = 0; ; attempt += 1) {
      const last = attempt + 1 >= this.attempts;
      const headers: Record<string, string> = { ...spec.headers };
      if (spec.body !== undefined) headers["content-type"] = "application/json";
      if (spec.auth !== false) {
        const token = await this.options.accessToken?.();
        if (token !== undefined) headers.authorization = `Bearer ${token}`;
      }
      let response: Response;
      try {
        response = await this.fetchImpl(url, {
          method,
          headers,
          ...(spec.body === undefined ? {} : { body: JSON.stringify(spec.body) }),
          ...(spec.signal === undefined ? {} : { signal: spec.signal }),
        });
      } catch (error) {
        if (spec.signal?.aborted) throw error;
        if (last) throw new NetworkError(operation, error);
        await sleep(this.delay(attempt, undefined), spec.signal);
        continue;
      }
      const text = await response.text();
      let body: unknown;
      try {
        body = text === "" ? undefined : JSON.parse(text);
      } catch {
        body = undefined;
      }
      if (response.ok) return { body, headers: response.headers };
      const retryAfter = Number.parseInt(response.headers.get("retry-after") ?? "", 10);
      const error = new ApiError(
        operation,
        response.status,
        errorCodesOf(response.status, body),
        Number.isFinite(retryAfter) ? retryAfter : undefined,
      );
      const retryable =
        response.status >= 500 || error.has("throttled") || error.has("idempotency_request_in_progress");
      if (!retryable || last) throw error;
      await sleep(this.delay(attempt, error.retryAfterSeconds), spec.signal);
    }
  }

  private delay(attempt: number, retryAfterSeconds: number | undefined): number {
    const jittered = backoffDelay(attempt, {
      baseMs: this.baseDelayMs,
      maxMs: this.maxDelayMs,
      ...(this.options.random === undefined ? {} : { random: this.options.random }),
    });
    return Math.min(this.maxDelayMs, Math.max(jittered, (retryAfterSeconds ?? 0) * 1000));
  }
}

/** The items of each page, in page order. */
async function* items<T>(pages: AsyncIterable<Page<T>>): AsyncGenerator<T> {
  for await (const page of pages) yield* page.items;
}
