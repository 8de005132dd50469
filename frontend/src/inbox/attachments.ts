/** Composer attachments: client-side limits (mirroring the server) and the multipart body. */
import type { Channel, ID } from "../api/types";
import { channelLabel, fileSize } from "../ui/format";

export const MAX_FILES = 5;
export const MAX_FILE_BYTES = 10 * 1024 * 1024;
/** Carriers take MMS up to about 5 MB in total. */
export const SMS_MAX_TOTAL_BYTES = 5 * 1024 * 1024;

/** Channels whose replies cannot carry files. */
const NO_FILES: Channel[] = ["voice"];

export interface FileLike {
  name: string;
  size: number;
  type: string;
}

export function sameFile(a: FileLike, b: FileLike): boolean {
  return a.name === b.name && a.size === b.size;
}

/**
 * Add `incoming` to `current`, keeping what fits the per-file and count limits.
 * Returns the new list and a message explaining anything left out.
 */
export function addFiles<F extends FileLike>(current: F[], incoming: F[]): { files: F[]; error: string | null } {
  const files = [...current];
  const problems: string[] = [];
  let dropped = 0;
  for (const f of incoming) {
    if (files.some((x) => sameFile(x, f))) continue;
    if (f.size > MAX_FILE_BYTES) {
      problems.push(`${f.name} is ${fileSize(f.size)}; each file can be at most ${fileSize(MAX_FILE_BYTES)}.`);
      continue;
    }
    if (f.size === 0) {
      problems.push(`${f.name} is empty.`);
      continue;
    }
    if (files.length >= MAX_FILES) {
      dropped++;
      continue;
    }
    files.push(f);
  }
  if (dropped) problems.push(`At most ${MAX_FILES} files per message: ${dropped} not added.`);
  return { files, error: problems.length ? problems.join(" ") : null };
}

/** Why these files cannot go out as a reply on `channel` (null: a note, or a reply whose channel is not known yet), or null. */
export function attachmentProblem(files: FileLike[], channel: Channel | null): string | null {
  if (!files.length) return null;
  if (files.length > MAX_FILES) return `At most ${MAX_FILES} files per message; remove ${files.length - MAX_FILES}.`;
  const big = files.find((f) => f.size > MAX_FILE_BYTES);
  if (big) return `${big.name} is ${fileSize(big.size)}; each file can be at most ${fileSize(MAX_FILE_BYTES)}.`;
  if (!channel) return null;
  if (NO_FILES.includes(channel)) return `${channelLabel(channel)} replies cannot carry files; remove them or pick another channel.`;
  const total = files.reduce((n, f) => n + f.size, 0);
  if (channel === "sms" && total > SMS_MAX_TOTAL_BYTES)
    return `SMS/MMS attachments can be at most ${fileSize(SMS_MAX_TOTAL_BYTES)} in total (these are ${fileSize(total)}); remove some or reply by email.`;
  return null;
}

export interface OutgoingFields {
  text: string;
  private: boolean;
  channel?: Channel;
  subject?: string;
  /** Email replies only: more recipients. */
  cc?: string[];
  mentions?: ID[];
}

/** The multipart body for POST /conversations/{id}/messages/ with files. */
export function multipartBody(fields: OutgoingFields, files: File[]): FormData {
  const fd = new FormData();
  fd.append("text", fields.text);
  fd.append("private", fields.private ? "true" : "false");
  if (fields.channel) fd.append("channel", fields.channel);
  if (fields.subject) fd.append("subject", fields.subject);
  for (const address of fields.cc ?? []) fd.append("cc", address);
  for (const id of fields.mentions ?? []) fd.append("mentions", String(id));
  for (const f of files) fd.append("files", f, f.name);
  return fd;
}
