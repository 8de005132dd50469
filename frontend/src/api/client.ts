import type {
  Agent,
  CannedResponse,
  Contact,
  ContactPatch,
  Conversation,
  ConversationFilter,
  ConversationPatch,
  ID,
  IdentityKind,
  Inbox,
  Label,
  LiveEvent,
  Me,
  Message,
  Page,
  ReplyOptions,
  SearchPage,
  SendMessageBody,
  TeamRef,
} from "./types";

export const API = "/api/v1";

/** Error thrown for any non-2xx response. `body` is the parsed JSON (if any). */
export class ApiError extends Error {
  status: number;
  body: unknown;
  constructor(status: number, body: unknown, message?: string) {
    super(message ?? describeError(body) ?? `Request failed (${status})`);
    this.status = status;
    this.body = body;
  }
  /** Field errors as {field: "message"} for 400 responses. */
  get fieldErrors(): Record<string, string> {
    const out: Record<string, string> = {};
    if (this.body && typeof this.body === "object") {
      for (const [k, v] of Object.entries(this.body as Record<string, unknown>)) {
        if (k === "detail") continue;
        out[k] = Array.isArray(v) ? v.join(" ") : String(v);
      }
    }
    return out;
  }
}

/** Turns a DRF-style error body into one human readable line. */
export function describeError(body: unknown): string | undefined {
  if (!body) return undefined;
  if (typeof body === "string") return body;
  if (typeof body !== "object") return String(body);
  const b = body as Record<string, unknown>;
  if (typeof b.detail === "string") return b.detail;
  const parts: string[] = [];
  for (const [k, v] of Object.entries(b)) {
    const msg = Array.isArray(v) ? v.map(String).join(" ") : typeof v === "string" ? v : JSON.stringify(v);
    parts.push(k === "non_field_errors" ? msg : `${k}: ${msg}`);
  }
  return parts.join("; ") || undefined;
}

/**
 * One line for the user about a failed request: the server's own words when it gave a reason (a 400's
 * field errors, a 403's detail), plus what to do about it when the reason alone does not say.
 */
export function errorText(e: unknown): string {
  if (e instanceof ApiError) {
    if (e.status === 401 || (e.status === 403 && /credentials|csrf/i.test(e.message)))
      return "Your session has ended: reload the page and sign in again.";
    if (e.status === 403) return `${e.message} Ask an admin if you need to do this.`;
    if (e.status === 404) return "It no longer exists, or you are not allowed to see it.";
    if (e.status >= 500) return `The server had a problem (${e.status}). Try again in a moment; if it keeps happening, tell your admin.`;
    return e.message;
  }
  // fetch() rejects with a TypeError when the request never got an answer.
  if (e instanceof TypeError) return "Heron could not reach the server. Check your connection and try again.";
  return e instanceof Error ? e.message : String(e);
}

export function getCookie(name: string): string | null {
  if (typeof document === "undefined") return null;
  for (const part of document.cookie ? document.cookie.split(";") : []) {
    const [k, ...rest] = part.trim().split("=");
    if (k === name) return decodeURIComponent(rest.join("="));
  }
  return null;
}

type Method = "GET" | "POST" | "PATCH" | "PUT" | "DELETE";

export async function request<T>(method: Method, url: string, body?: unknown, signal?: AbortSignal): Promise<T> {
  const headers: Record<string, string> = { Accept: "application/json" };
  const multipart = typeof FormData !== "undefined" && body instanceof FormData;
  // For FormData the browser sets multipart/form-data with its boundary itself.
  if (body !== undefined && !multipart) headers["Content-Type"] = "application/json";
  if (method !== "GET") {
    const token = getCookie("csrftoken");
    if (token) headers["X-CSRFToken"] = token;
  }
  const res = await fetch(url, {
    method,
    headers,
    credentials: "same-origin",
    body: multipart ? (body as FormData) : body !== undefined ? JSON.stringify(body) : undefined,
    signal,
  });
  if (res.status === 204) return undefined as T;
  const text = await res.text();
  let data: unknown = undefined;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = text;
    }
  }
  if (!res.ok) throw new ApiError(res.status, data);
  return data as T;
}

function qs(params: Record<string, string | number | undefined | null>): string {
  const sp = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v === undefined || v === null || v === "") continue;
    sp.set(k, String(v));
  }
  const s = sp.toString();
  return s ? `?${s}` : "";
}

export function conversationsUrl(f: ConversationFilter): string {
  return `${API}/conversations/${qs({
    view: f.view,
    status: f.status,
    channel: f.channel,
    inbox: f.inbox,
    label: f.label,
    assignee: f.assignee,
    priority: f.priority,
    q: f.q?.trim(),
  })}`;
}

/** The list's filters plus the words: what search combines them with. */
export function searchUrl(f: ConversationFilter): string {
  return `${API}/search/${qs({
    q: f.q,
    view: f.view,
    status: f.status,
    channel: f.channel,
    inbox: f.inbox,
    label: f.label,
    assignee: f.assignee,
    priority: f.priority,
  })}`;
}

export const api = {
  csrf: () => request<void>("GET", `${API}/auth/csrf/`),
  /** Signing in needs the CSRF cookie (login CSRF): fetched first when the browser has none. */
  login: async (email: string, password: string) => {
    if (!getCookie("csrftoken")) await api.csrf();
    return request<Me>("POST", `${API}/auth/login/`, { email, password });
  },
  logout: () => request<void>("POST", `${API}/auth/logout/`),
  me: () => request<Me>("GET", `${API}/me/`),

  /** Pass either a filter (first page) or the `next` URL returned by the server. */
  conversations: (f: ConversationFilter | string, signal?: AbortSignal) =>
    request<Page<Conversation>>("GET", typeof f === "string" ? f : conversationsUrl(f), undefined, signal),
  search: (f: ConversationFilter | string, signal?: AbortSignal) =>
    request<SearchPage>("GET", typeof f === "string" ? f : searchUrl(f), undefined, signal),
  conversation: (id: ID) => request<Conversation>("GET", `${API}/conversations/${id}/`),
  patchConversation: (id: ID, patch: ConversationPatch) =>
    request<Conversation>("PATCH", `${API}/conversations/${id}/`, patch),
  markRead: (id: ID) => request<void>("POST", `${API}/conversations/${id}/read/`),
  messages: (id: ID, next?: string | null) =>
    request<Page<Message>>("GET", next ?? `${API}/conversations/${id}/messages/`),
  /** Where a reply can go: each channel with its recipient, or why it can't be used. */
  replyOptions: (id: ID, signal?: AbortSignal) =>
    request<ReplyOptions>("GET", `${API}/conversations/${id}/reply-options/`, undefined, signal),
  /** JSON, or multipart/form-data (same fields plus repeated `files`) when attaching files. */
  sendMessage: (id: ID, body: SendMessageBody | FormData) => request<Message>("POST", `${API}/conversations/${id}/messages/`, body),

  contacts: (q: string | null, next?: string | null, label?: string) =>
    request<Page<Contact>>("GET", next ?? `${API}/contacts/${qs({ q, label })}`),
  contact: (id: ID) => request<Contact>("GET", `${API}/contacts/${id}/`),
  patchContact: (id: ID, patch: ContactPatch) => request<Contact>("PATCH", `${API}/contacts/${id}/`, patch),
  mergeContact: (id: ID, other: ID) => request<Contact>("POST", `${API}/contacts/${id}/merge/`, { other }),
  unmergeContact: (id: ID, mergeId: ID) =>
    request<Contact>("POST", `${API}/contacts/${id}/unmerge/`, { merge_id: mergeId }),
  /** A 400 names the contact that already has the address (merge the two instead). */
  addIdentity: (id: ID, kind: IdentityKind, value: string) =>
    request<Contact>("POST", `${API}/contacts/${id}/identities/`, { kind, value }),
  removeIdentity: (id: ID, identityId: ID) => request<void>("DELETE", `${API}/contacts/${id}/identities/${identityId}/`),
  timeline: (contactId: ID, next?: string | null, signal?: AbortSignal) =>
    request<Page<Message>>("GET", next ?? `${API}/contacts/${contactId}/timeline/`, undefined, signal),
  contactConversations: (contactId: ID) => request<Conversation[]>("GET", `${API}/contacts/${contactId}/conversations/`),

  agents: () => request<Agent[]>("GET", `${API}/agents/`),
  teams: () => request<TeamRef[]>("GET", `${API}/teams/`),
  inboxes: () => request<Inbox[]>("GET", `${API}/inboxes/`),
  labels: () => request<Label[]>("GET", `${API}/labels/`),
  cannedResponses: () => request<CannedResponse[]>("GET", `${API}/canned-responses/`),

  events: (after: number) => request<{ events: LiveEvent[]; last_id: number }>("GET", `${API}/events/${qs({ after })}`),
};

export type Api = typeof api;
