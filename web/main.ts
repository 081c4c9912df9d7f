/**
 * The web client of cruddur-messages: sign in, the conversation list with unread counts, a
 * conversation (older pages loaded on scroll or with a button), sending, starting a conversation by
 * handle, blocking, and new messages and read receipts arriving live. Plain DOM over the typed
 * client (`client/`): no framework. The open conversation is in the URL (`#/c/<message_group_uuid>`),
 * so a reload keeps it.
 */
import {
  ApiError,
  AuthError,
  CruddurClient,
  type MessageGroupView,
  type MessageView,
  type RealtimeEvent,
  type RealtimeStatus,
  type RealtimeSubscription,
  subscribeToUser,
  tokenSubject,
} from "../client/index";
import {
  type AppConfig,
  freshAccessToken,
  loadConfig,
  type Session,
  signIn,
  storedSession,
  storeSession,
} from "./session";

const byId = <T extends HTMLElement>(id: string): T => {
  const element = document.getElementById(id);
  if (element === null) throw new Error(`#${id} missing`);
  return element as T;
};

const el = {
  loading: byId("loading"),
  who: byId("who"),
  live: byId("live"),
  signOut: byId<HTMLButtonElement>("sign-out"),
  signIn: byId("sign-in"),
  signInForm: byId<HTMLFormElement>("sign-in-form"),
  username: byId<HTMLInputElement>("username"),
  password: byId<HTMLInputElement>("password"),
  signInError: byId("sign-in-error"),
  signInHint: byId("sign-in-hint"),
  app: byId("app"),
  groups: byId<HTMLUListElement>("groups"),
  newForm: byId<HTMLFormElement>("new-form"),
  newHandle: byId<HTMLInputElement>("new-handle"),
  newMessage: byId<HTMLTextAreaElement>("new-message"),
  newError: byId("new-error"),
  title: byId("conversation-title"),
  block: byId<HTMLButtonElement>("block"),
  blockStatus: byId("block-status"),
  older: byId<HTMLButtonElement>("older"),
  messages: byId<HTMLOListElement>("messages"),
  scroller: byId("scroller"),
  composer: byId<HTMLFormElement>("composer"),
  composerText: byId<HTMLTextAreaElement>("composer-text"),
  composerError: byId("composer-error"),
};

/** Words for the error codes a user can meet; any other code is shown as it is. */
const ERROR_TEXT: Record<string, string> = {
  message_blank: "Write a message first.",
  message_exceed_max_chars: "That message is too long (1,024 characters at most).",
  message_invalid: "That message holds characters that cannot be sent.",
  cannot_message_user: "You cannot message this user (one of you blocks the other).",
  cannot_message_self: "That is your own handle.",
  cannot_block_self: "That is your own handle.",
  handle_not_found: "No user has that handle.",
  handle_invalid: "That is not a handle (letters, digits, _ . - only).",
  rate_limited: "You are sending too fast: wait a moment.",
  message_group_not_found: "This conversation does not exist or is not yours.",
  unauthorized: "Your session ended: sign in again.",
};

function describeError(error: unknown): string {
  if (error instanceof ApiError)
    return error.codes.map((c) => ERROR_TEXT[c] ?? c).join(" ") || `Error ${error.status}.`;
  if (error instanceof AuthError) {
    return /NotAuthorized|InvalidPassword|UserNotFound/.test(error.code) ? "Wrong handle or password." : error.message;
  }
  return "The server cannot be reached. Try again.";
}

interface OpenConversation {
  group: string;
  messages: Map<string, MessageView>;
  cursor: string | undefined;
  loadingOlder: boolean;
}

let config: AppConfig;
let session: Session | undefined;
let client: CruddurClient;
let me = "";
let realtime: RealtimeSubscription | undefined;
const groups = new Map<string, MessageGroupView>();
const blocked = new Set<string>();
let open: OpenConversation | undefined;

const timeFormat = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });

// -- signing in --------------------------------------------------------------------------------

function showSignIn(message = ""): void {
  el.loading.hidden = true;
  el.app.hidden = true;
  el.signOut.hidden = true;
  el.who.textContent = "";
  el.live.textContent = "";
  el.signIn.hidden = false;
  el.signInError.textContent = message;
  const seeded = config.seededHandles ?? [];
  el.signInHint.textContent =
    seeded.length > 0
      ? `Local stack: sign in as ${seeded.join(", ")} with the password printed by npm start (also in .local/stack.json).`
      : "";
  el.username.focus();
}

el.signInForm.addEventListener("submit", (event) => {
  event.preventDefault();
  const username = el.username.value.trim();
  const password = el.password.value;
  if (username === "" || password === "") {
    el.signInError.textContent = "Enter your handle and password.";
    return;
  }
  const button = el.signInForm.querySelector("button");
  if (button) button.disabled = true;
  signIn(config, username, password)
    .then((signedIn) => {
      el.password.value = "";
      return start(signedIn);
    })
    .catch((error: unknown) => {
      el.signInError.textContent = describeError(error);
    })
    .finally(() => {
      if (button) button.disabled = false;
    });
});

el.signOut.addEventListener("click", () => {
  realtime?.close();
  realtime = undefined;
  storeSession(undefined);
  session = undefined;
  groups.clear();
  blocked.clear();
  open = undefined;
  el.groups.replaceChildren();
  el.messages.replaceChildren();
  history.replaceState(null, "", "#/");
  showSignIn();
});

async function start(signedIn: Session): Promise<void> {
  session = signedIn;
  me = tokenSubject(signedIn.accessToken);
  const current = signedIn;
  client = new CruddurClient({ apiUrl: config.apiUrl, accessToken: () => freshAccessToken(config, current) });
  el.signIn.hidden = true;
  el.loading.hidden = true;
  el.app.hidden = false;
  el.signOut.hidden = false;
  el.who.textContent = `Signed in as @${signedIn.username}`;
  try {
    blocked.clear();
    for await (const block of client.blocks({ limit: 100 })) blocked.add(block.handle.toLowerCase());
    await loadGroups();
  } catch (error) {
    if ((error instanceof ApiError && error.has("unauthorized")) || error instanceof AuthError) {
      storeSession(undefined);
      showSignIn(describeError(error));
      return;
    }
    throw error;
  }
  realtime?.close();
  realtime = subscribeToUser({
    realtimeUrl: config.events.realtimeUrl,
    httpHost: config.events.httpHost,
    userUuid: me,
    accessToken: () => freshAccessToken(config, current),
    api: client,
    onEvent,
    onStatus: showStatus,
    onError: (error) => console.warn("real-time:", error.message),
  });
  await route();
}

function showStatus(status: RealtimeStatus): void {
  el.live.textContent =
    status === "live"
      ? "Live"
      : status === "connecting"
        ? "Connecting…"
        : status === "reconnecting"
          ? "Reconnecting…"
          : "Offline";
  el.live.dataset.status = status;
}

// -- conversation list ------------------------------------------------------------------------

async function loadGroups(): Promise<void> {
  const page = await client.listMessageGroups({ limit: 50 });
  groups.clear();
  for (const group of page.items) groups.set(group.uuid, group);
  renderGroups();
}

function renderGroups(): void {
  const sorted = [...groups.values()].sort((a, b) => (a.created_at < b.created_at ? 1 : -1));
  const items = sorted.map((group) => {
    const li = document.createElement("li");
    const link = document.createElement("a");
    link.href = `#/c/${group.uuid}`;
    link.dataset.group = group.uuid;
    if (open?.group === group.uuid) link.setAttribute("aria-current", "page");
    const name = document.createElement("span");
    name.className = "group-name";
    name.textContent = group.display_name;
    const handle = document.createElement("span");
    handle.className = "group-handle";
    handle.textContent = ` @${group.handle}`;
    link.append(name, handle);
    if (group.unread_count > 0) {
      const unread = document.createElement("span");
      unread.className = "unread";
      unread.dataset.unread = String(group.unread_count);
      unread.textContent = group.unread_count >= 100 ? "99+ unread" : `${group.unread_count} unread`;
      link.append(unread);
    }
    const last = document.createElement("span");
    last.className = "group-last";
    last.textContent = group.message;
    link.append(last);
    li.append(link);
    return li;
  });
  el.groups.replaceChildren(...items);
  if (items.length === 0) {
    const li = document.createElement("li");
    li.textContent = "No conversations yet.";
    el.groups.append(li);
  }
}

el.newForm.addEventListener("submit", (event) => {
  event.preventDefault();
  const handle = el.newHandle.value.trim().replace(/^@/, "");
  const message = el.newMessage.value;
  el.newError.textContent = "";
  if (handle === "") {
    el.newError.textContent = "Enter a handle.";
    return;
  }
  client
    .sendMessage({ handle }, message)
    .then(async (sent) => {
      el.newHandle.value = "";
      el.newMessage.value = "";
      await loadGroups();
      location.hash = `#/c/${sent.message_group_uuid}`;
    })
    .catch((error: unknown) => {
      el.newError.textContent = describeError(error);
    });
});

// -- a conversation ---------------------------------------------------------------------------

async function route(): Promise<void> {
  if (session === undefined) return;
  const match = /^#\/c\/([0-9a-f-]{36})$/.exec(location.hash);
  el.app.classList.toggle("viewing", match !== null);
  if (match?.[1] === undefined) {
    open = undefined;
    el.title.textContent = "Choose a conversation";
    el.messages.replaceChildren();
    el.composer.hidden = true;
    el.block.hidden = true;
    el.older.hidden = true;
    el.blockStatus.textContent = "";
    renderGroups();
    return;
  }
  await openGroup(match[1]);
}

window.addEventListener("hashchange", () => void route().catch(report));

async function openGroup(uuid: string): Promise<void> {
  open = { group: uuid, messages: new Map(), cursor: undefined, loadingOlder: false };
  const opening = open;
  el.messages.replaceChildren();
  el.composerError.textContent = "";
  const group = groups.get(uuid);
  el.title.textContent = group === undefined ? "Conversation" : `${group.display_name} (@${group.handle})`;
  renderGroups();
  let page: Awaited<ReturnType<CruddurClient["listMessages"]>>;
  try {
    page = await client.listMessages(uuid, { limit: 20 });
  } catch (error) {
    el.title.textContent = describeError(error);
    el.composer.hidden = true;
    return;
  }
  if (open !== opening) return;
  for (const message of page.items) opening.messages.set(message.uuid, message);
  opening.cursor = page.cursor;
  el.composer.hidden = false;
  renderBlock();
  renderMessages("bottom");
  void markRead();
}

function renderBlock(): void {
  const group = open === undefined ? undefined : groups.get(open.group);
  if (group === undefined) {
    el.block.hidden = true;
    return;
  }
  const isBlocked = blocked.has(group.handle.toLowerCase());
  el.block.hidden = false;
  el.block.textContent = isBlocked ? `Unblock @${group.handle}` : `Block @${group.handle}`;
  el.blockStatus.textContent = isBlocked ? `You block @${group.handle}: neither of you can send messages here.` : "";
}

el.block.addEventListener("click", () => {
  const group = open === undefined ? undefined : groups.get(open.group);
  if (group === undefined) return;
  const isBlocked = blocked.has(group.handle.toLowerCase());
  el.block.disabled = true;
  (isBlocked ? client.unblockUser(group.handle) : client.blockUser(group.handle).then(() => undefined))
    .then(() => {
      if (isBlocked) blocked.delete(group.handle.toLowerCase());
      else blocked.add(group.handle.toLowerCase());
      renderBlock();
    })
    .catch((error: unknown) => {
      el.blockStatus.textContent = describeError(error);
    })
    .finally(() => {
      el.block.disabled = false;
    });
});

function messageItem(message: MessageView, otherReadAt: string | null): HTMLLIElement {
  const li = document.createElement("li");
  const mine = message.user_uuid === me;
  li.className = mine ? "message mine" : "message";
  li.dataset.id = message.uuid;
  const meta = document.createElement("span");
  meta.className = "message-meta";
  const time = document.createElement("time");
  time.dateTime = message.created_at;
  time.textContent = timeFormat.format(new Date(message.created_at));
  meta.append(mine ? "You" : message.display_name, " · ", time);
  const text = document.createElement("p");
  text.className = "message-text";
  text.textContent = message.message;
  li.append(meta, text);
  if (mine) {
    const seen = otherReadAt !== null && message.created_at <= otherReadAt;
    const receipt = document.createElement("span");
    receipt.className = "receipt";
    receipt.dataset.receipt = seen ? "seen" : "sent";
    receipt.textContent = seen ? "Seen" : "Sent";
    li.append(receipt);
  }
  return li;
}

/** Renders the open conversation, keeping the view at the bottom, or where it was (older pages added above). */
function renderMessages(keep: "bottom" | "position"): void {
  if (open === undefined) return;
  const list = el.scroller;
  const fromBottom = list.scrollHeight - list.scrollTop;
  const atBottom = list.scrollHeight - list.scrollTop - list.clientHeight < 40;
  const otherReadAt = groups.get(open.group)?.other_last_read_at ?? null;
  const sorted = [...open.messages.values()].sort((a, b) =>
    a.created_at === b.created_at ? (a.uuid < b.uuid ? -1 : 1) : a.created_at < b.created_at ? -1 : 1,
  );
  el.messages.replaceChildren(...sorted.map((m) => messageItem(m, otherReadAt)));
  el.older.hidden = open.cursor === undefined;
  if (keep === "bottom" || atBottom) list.scrollTop = list.scrollHeight;
  else list.scrollTop = list.scrollHeight - fromBottom;
}

async function loadOlder(): Promise<void> {
  const current = open;
  if (current === undefined || current.cursor === undefined || current.loadingOlder) return;
  current.loadingOlder = true;
  el.older.disabled = true;
  try {
    const page = await client.listMessages(current.group, { limit: 20, cursor: current.cursor });
    if (open !== current) return;
    for (const message of page.items) current.messages.set(message.uuid, message);
    current.cursor = page.cursor;
    renderMessages("position");
  } finally {
    current.loadingOlder = false;
    el.older.disabled = false;
  }
}

el.older.addEventListener("click", () => void loadOlder().catch(report));
el.scroller.addEventListener("scroll", () => {
  if (el.scroller.scrollTop < 40) void loadOlder().catch(report);
});

el.composer.addEventListener("submit", (event) => {
  event.preventDefault();
  const current = open;
  if (current === undefined) return;
  const text = el.composerText.value;
  el.composerError.textContent = "";
  const button = el.composer.querySelector("button");
  if (button) button.disabled = true;
  client
    .sendMessage({ message_group_uuid: current.group }, text)
    .then((sent) => {
      el.composerText.value = "";
      current.messages.set(sent.uuid, sent);
      updateGroupWith(current.group, sent, false);
      if (open === current) renderMessages("bottom");
    })
    .catch((error: unknown) => {
      el.composerError.textContent = describeError(error);
    })
    .finally(() => {
      if (button) button.disabled = false;
      el.composerText.focus();
    });
});

el.composerText.addEventListener("keydown", (event) => {
  if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) el.composer.requestSubmit();
});

let marking = false;
let markAgain = false;
/** Marks the open conversation read (one call at a time; a call asked meanwhile runs after). */
async function markRead(): Promise<void> {
  const current = open;
  if (current === undefined) return;
  if (marking) {
    markAgain = true;
    return;
  }
  marking = true;
  try {
    const state = await client.markRead(current.group);
    const group = groups.get(current.group);
    if (group !== undefined) {
      group.unread_count = state.unread_count;
      group.last_read_at = state.last_read_at;
      renderGroups();
    }
  } catch (error) {
    report(error);
  } finally {
    marking = false;
    if (markAgain) {
      markAgain = false;
      void markRead();
    }
  }
}

// -- live events ------------------------------------------------------------------------------

function updateGroupWith(uuid: string, message: MessageView, countUnread: boolean): boolean {
  const group = groups.get(uuid);
  if (group === undefined) return false;
  // Only a message newer than the summary counts: an older one (a replay, a gap fill) is in it already.
  const newer = message.created_at > group.created_at;
  if (newer) {
    group.message = message.message;
    group.created_at = message.created_at;
  }
  if (countUnread && newer && message.user_uuid !== me) group.unread_count = Math.min(100, group.unread_count + 1);
  renderGroups();
  return true;
}

function onEvent(event: RealtimeEvent): void {
  if (event.type === "message.new") {
    const viewing = open?.group === event.message_group_uuid;
    const known = open?.messages.has(event.id) === true;
    if (!known && !updateGroupWith(event.message_group_uuid, event.message, !viewing)) {
      void loadGroups().catch(report); // a conversation new to this screen
    }
    if (viewing && open !== undefined && !known) {
      open.messages.set(event.id, event.message);
      renderMessages("position");
      if (event.message.user_uuid !== me) void markRead();
    }
    return;
  }
  if (event.user_uuid === me) return;
  const group = groups.get(event.message_group_uuid);
  if (group === undefined) return;
  if (group.other_last_read_at === null || event.last_read_at > group.other_last_read_at) {
    group.other_last_read_at = event.last_read_at;
    if (open?.group === event.message_group_uuid) renderMessages("position");
  }
}

function report(error: unknown): void {
  console.warn("cruddur-messages:", describeError(error), error);
}

window.addEventListener("online", () => realtime?.reconnect());

// -- start ------------------------------------------------------------------------------------

async function main(): Promise<void> {
  config = await loadConfig();
  const stored = storedSession();
  if (stored === undefined) showSignIn();
  else await start(stored);
}

void main().catch((error: unknown) => {
  el.loading.textContent = `The app could not start: ${describeError(error)}`;
  report(error);
});
