import type { Attachment } from "../api/types";

/**
 * Email HTML helpers for the sandboxed iframe. The server blocks remote images by moving
 * `<img src="http…">` to `<img data-remote-src="http…">`; inline (`cid:`) images point at attachments
 * through `metadata.cid_map` (Content-ID → index of the message's attachments).
 * The iframe is sandboxed (an opaque origin), so its requests carry no session cookie: inline images
 * use the attachment's `inline_url`, a signed expiring link, never the cookie-protected `url`.
 */

/** An `<img …>` start tag; quoted attribute values may contain ">". */
const IMG_TAG = /<img\b(?:[^>"']|"[^"]*"|'[^']*')*>/gi;
/** One attribute `name=value` inside a tag (value double, single or un-quoted). */
const attr = (name: string) => new RegExp(`(\\s)${name}\\s*=\\s*(?:"([^"]*)"|'([^']*)'|([^\\s"'>]+))`, "gi");

const isHttp = (v: string) => /^https?:\/\//i.test(v.trim());

function mapImgTags(html: string, fn: (tag: string) => string): string {
  return html.replace(IMG_TAG, fn);
}

function escapeAttr(v: string): string {
  return v.replace(/&/g, "&amp;").replace(/"/g, "&quot;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

/** Whether any image waits for "Load remote images" (an http/https `data-remote-src`). */
export function hasRemoteImages(html: string): boolean {
  if (!html || !/data-remote-src/i.test(html)) return false;
  let found = false;
  mapImgTags(html, (tag) => {
    for (const m of tag.matchAll(attr("data-remote-src"))) {
      if (isHttp(m[2] ?? m[3] ?? m[4] ?? "")) found = true;
    }
    return tag;
  });
  return found;
}

/** Turns `data-remote-src="http(s)://…"` back into `src` in `<img>` tags; other values stay inert. */
export function loadRemoteImages(html: string): string {
  if (!html || !/data-remote-src/i.test(html)) return html;
  return mapImgTags(html, (tag) => {
    if (/\ssrc\s*=/i.test(tag)) return tag; // already has a source: leave it alone
    let done = false;
    return tag.replace(attr("data-remote-src"), (whole, sp: string, dq?: string, sq?: string, bare?: string) => {
      const value = dq ?? sq ?? bare ?? "";
      if (done || !isHttp(value)) return whole;
      done = true;
      // The value is raw attribute text (entities already encoded): only a single-quoted one can hold '"'.
      return `${sp}src="${value.trim().replace(/"/g, "&quot;")}"`;
    });
  });
}

function cidKeys(raw: string): string[] {
  let decoded = raw;
  try {
    decoded = decodeURIComponent(raw);
  } catch {
    /* keep raw */
  }
  const keys = [raw, decoded].map((k) => k.trim().replace(/^<(.*)>$/, "$1"));
  return [...new Set(keys)];
}

/**
 * `src="cid:X"` → the inline URL of the attachment `cidMap[X]` points at (when it is a ready image).
 * Indexes count the message's attachments in the order they were stored (by id).
 */
export function resolveCidImages(html: string, cidMap: unknown, attachments: Attachment[]): string {
  if (!html || !cidMap || typeof cidMap !== "object" || !/cid:/i.test(html)) return html;
  const map = cidMap as Record<string, unknown>;
  const lower = new Map(Object.entries(map).map(([k, v]) => [k.replace(/^<(.*)>$/, "$1").toLowerCase(), v]));
  const ordered = [...(attachments ?? [])].sort((a, b) => a.id - b.id);
  const urlFor = (cid: string): string | null => {
    for (const key of cidKeys(cid)) {
      const index = key in map ? map[key] : lower.get(key.toLowerCase());
      if (typeof index === "number" && Number.isInteger(index)) {
        const url = ordered[index]?.inline_url;
        if (url) return url;
      }
    }
    return null;
  };
  return mapImgTags(html, (tag) =>
    tag.replace(attr("src"), (whole, sp: string, dq?: string, sq?: string, bare?: string) => {
      const value = (dq ?? sq ?? bare ?? "").trim();
      if (!/^cid:/i.test(value)) return whole;
      const url = urlFor(value.slice(4));
      return url ? `${sp}src="${escapeAttr(url)}"` : whole;
    }),
  );
}

/** The srcdoc for a message: inline images resolved, remote ones only when asked for. */
export function emailSrcDoc(html: string, cidMap: unknown, attachments: Attachment[], remote: boolean): string {
  const out = resolveCidImages(html, cidMap, attachments);
  // Remote hosts get no referrer (the inbox URL names the conversation).
  return remote ? `<meta name="referrer" content="no-referrer">${loadRemoteImages(out)}` : out;
}

/** Line-starting HTML elements: a rough count of the lines an email's HTML renders. */
const BLOCK_TAG = /<(?:p|br|div|li|tr|h[1-6]|blockquote)\b/gi;
const LINE_PX = 20;
const IMAGE_PX = 150;

/**
 * A height for the sandboxed frame. Its opaque origin keeps the page from measuring what it shows,
 * so the height comes from the message: a line per 80 characters or block element, a block per
 * image shown (a blocked remote image is only its alt text), between one line and a tall screenful
 * (the frame can still be dragged taller).
 */
export function emailFrameHeight(text: string, html: string): number {
  const textLines = text.split("\n").reduce((n, line) => n + Math.max(1, Math.ceil(line.length / 80)), 0);
  const htmlLines = (html.match(BLOCK_TAG) ?? []).length;
  const images = (html.match(IMG_TAG) ?? []).filter((tag) => !/data-remote-src/i.test(tag)).length;
  return Math.min(640, Math.max(64, 32 + Math.max(textLines, htmlLines) * LINE_PX + images * IMAGE_PX));
}
