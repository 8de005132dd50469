/** The composer's attachments part: the files to send, and the ways they come in (the button, a drop, a paste). */
import { type ClipboardEvent, type DragEvent, useEffect, useState } from "react";
import type { Channel } from "../api/types";
import { fileSize } from "../ui/format";
import { Icon } from "../ui/icons";
import { MAX_FILES, MAX_FILE_BYTES, SMS_MAX_TOTAL_BYTES, addFiles, attachmentProblem } from "./attachments";

export interface Attachments {
  files: File[];
  /** Why some of the files offered were left out (too big, empty, too many). */
  error: string | null;
  /** Why these files cannot go with this message (over the channel's limits), or null: no send while set. */
  problem: string | null;
  /** The limits, for the attach button's title. */
  limits: string;
  /** No files can be added now. */
  disabled: boolean;
  /** Files are being dragged over the drop zone. */
  dragging: boolean;
  add: (incoming: File[]) => void;
  remove: (file: File) => void;
  /** After a send. */
  clear: () => void;
  /** Handlers for the element files can be dropped on. */
  dropZone: {
    onDragEnter: (e: DragEvent) => void;
    onDragOver: (e: DragEvent) => void;
    onDragLeave: (e: DragEvent) => void;
    onDrop: (e: DragEvent) => void;
  };
  /** For the text box: pasted files are attached (pasted text stays text). */
  onPaste: (e: ClipboardEvent) => void;
}

const hasFiles = (e: DragEvent) => Array.from(e.dataTransfer?.types ?? []).includes("Files");

/**
 * `channel`: what the message goes by (null: a note, or a reply whose channel is not known yet);
 * `disabled`: no files can be added now (the reply is blocked, or a send is under way).
 */
export function useAttachments(channel: Channel | null, disabled: boolean): Attachments {
  const [files, setFiles] = useState<File[]>([]);
  const [error, setError] = useState<string | null>(null);
  const [dragging, setDragging] = useState(false);
  const add = (incoming: File[]) => {
    if (!incoming.length) return;
    const res = addFiles(files, incoming);
    setFiles(res.files);
    setError(res.error);
  };
  const smsLimit = channel === "sms" ? `, ${fileSize(SMS_MAX_TOTAL_BYTES)} in total by SMS` : "";
  return {
    files,
    error,
    problem: attachmentProblem(files, channel),
    limits: `Attach files (up to ${MAX_FILES}, ${fileSize(MAX_FILE_BYTES)} each${smsLimit}). You can also drop or paste them.`,
    disabled,
    dragging,
    add,
    remove: (file) => {
      setFiles((fs) => fs.filter((x) => x !== file));
      setError(null);
    },
    clear: () => {
      setFiles([]);
      setError(null);
    },
    dropZone: {
      onDragEnter: (e) => {
        if (!hasFiles(e) || disabled) return;
        e.preventDefault();
        setDragging(true);
      },
      onDragOver: (e) => {
        if (!hasFiles(e) || disabled) return;
        e.preventDefault();
        e.dataTransfer.dropEffect = "copy";
        if (!dragging) setDragging(true);
      },
      onDragLeave: (e) => {
        if (!e.currentTarget.contains(e.relatedTarget as Node | null)) setDragging(false);
      },
      onDrop: (e) => {
        if (!hasFiles(e)) return;
        e.preventDefault();
        setDragging(false);
        if (!disabled) add(Array.from(e.dataTransfer.files));
      },
    },
    onPaste: (e) => {
      const pasted = Array.from(e.clipboardData?.files ?? []);
      if (pasted.length && !disabled) {
        if (!e.clipboardData.getData("text")) e.preventDefault();
        add(pasted);
      }
    },
  };
}

/** Shown over the text box while files are dragged over the composer. */
export function DropHint() {
  return (
    <div className="drop-hint" aria-hidden="true">
      <Icon name="paperclip" size={20} /> Drop files to attach
    </div>
  );
}

/** The paperclip: a label around the file input, with the number of files attached. */
export function AttachButton({ attachments }: { attachments: Attachments }) {
  const { disabled } = attachments;
  return (
    <label
      className={`icon-button attach${disabled ? " disabled" : ""}`}
      title={attachments.limits}
      data-testid="composer-attach"
    >
      <input
        type="file"
        multiple
        className="sr-only"
        aria-label="Attach files"
        disabled={disabled}
        onChange={(e) => {
          attachments.add(Array.from(e.target.files ?? []));
          e.target.value = ""; // choosing the same file again still fires change
        }}
        data-testid="composer-file-input"
      />
      <Icon name="paperclip" size={18} />
      {attachments.files.length > 0 && <span className="count">{attachments.files.length}</span>}
    </label>
  );
}

/** The attached files as removable chips, and what is wrong with them. */
export function AttachedFiles({ attachments }: { attachments: Attachments }) {
  const { files, error, problem } = attachments;
  return (
    <>
      {files.length > 0 && (
        <ul className="file-chips" aria-label="Files to send">
          {files.map((f, i) => (
            <FileChip key={`${f.name}-${f.size}-${i}`} file={f} onRemove={() => attachments.remove(f)} />
          ))}
        </ul>
      )}
      {(error || problem) && (
        <div className="form-error small" role="alert" data-testid="composer-attach-error">
          <Icon name="warning" /> {[error, problem].filter(Boolean).join(" ")}
        </div>
      )}
    </>
  );
}

function FileChip({ file, onRemove }: { file: File; onRemove: () => void }) {
  const [preview, setPreview] = useState<string | null>(null);
  useEffect(() => {
    if (!file.type.startsWith("image/") || typeof URL.createObjectURL !== "function") return;
    const url = URL.createObjectURL(file);
    setPreview(url);
    return () => URL.revokeObjectURL(url);
  }, [file]);
  return (
    <li className="file-chip" data-testid="attachment-chip" title={`${file.name} (${fileSize(file.size)})`}>
      {preview ? <img src={preview} alt="" /> : <Icon name="file" />}
      <span className="file-name">{file.name}</span>
      <span className="muted">{fileSize(file.size)}</span>
      <button type="button" className="chip-remove" onClick={onRemove} aria-label={`Remove ${file.name}`} data-testid="attachment-chip-remove">
        <Icon name="close" size={14} />
      </button>
    </li>
  );
}
