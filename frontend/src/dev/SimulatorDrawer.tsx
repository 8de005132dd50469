import { useEffect, useMemo, useRef, useState } from "react";
import { createPortal } from "react-dom";
import { ApiError, api, describeError } from "../api/client";
import type { Inbox } from "../api/types";
import { channelLabel } from "../ui/format";
import { Icon } from "../ui/icons";
import { simulatorApi } from "./api";
import {
  type SimulatorChannels,
  type SimulatorOptions,
  defaultOptions,
  fieldLabel,
  inboxChannel,
  simulatePayload,
  visibleFields,
} from "./simulator-logic";

type Result = { ok: true; text: string } | { ok: false; text: string };

/** Development-only drawer: send a message as a customer through the channel's real, signed webhook. */
export default function SimulatorDrawer({ channels, onClose }: { channels: SimulatorChannels; onClose: () => void }) {
  const names = useMemo(() => Object.keys(channels).sort((a, b) => (a === "simulator" ? -1 : b === "simulator" ? 1 : a.localeCompare(b))), [channels]);
  const [channel, setChannel] = useState(names[0] ?? "");
  const [inboxes, setInboxes] = useState<Inbox[]>([]);
  const [values, setValues] = useState<Record<string, SimulatorOptions>>({});
  const [sending, setSending] = useState(false);
  const [sent, setSent] = useState(0);
  const [result, setResult] = useState<Result | null>(null);
  const firstField = useRef<HTMLSelectElement>(null);

  useEffect(() => {
    api.inboxes().then(setInboxes, () => undefined);
    firstField.current?.focus();
  }, []);

  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (e.key === "Escape") onClose();
    };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, [onClose]);

  const fields = channels[channel] ?? [];
  const shown = visibleFields(fields);
  // Values the user has not touched follow the defaults (which improve once inboxes load).
  const current: SimulatorOptions = { ...defaultOptions(channel, fields, inboxes, sent), ...(values[channel] ?? {}) };

  const update = (name: string, value: string) =>
    setValues((v) => ({ ...v, [channel]: { ...(v[channel] ?? {}), [name]: value } }));

  const send = async () => {
    setSending(true);
    setResult(null);
    const payload = simulatePayload(channel, fields, current);
    try {
      const res = await simulatorApi.send(payload.channel, payload.options);
      setResult({ ok: true, text: `Sent: the webhook answered ${res.status_code}. Watch it arrive in the inbox.` });
      setSent((n) => n + 1);
      // Next message gets a fresh sample text unless the user typed their own.
      setValues((v) => {
        const mine = { ...(v[channel] ?? {}) };
        delete mine.text;
        return { ...v, [channel]: mine };
      });
    } catch (e) {
      const detail =
        e instanceof ApiError ? (e.status === 502 ? `the webhook was refused: ${describeError(e.body)}` : (describeError(e.body) ?? e.message)) : String(e);
      setResult({ ok: false, text: `Not sent: ${detail}` });
    } finally {
      setSending(false);
    }
  };

  // Portalled to <body>: rendered inside the dark top bar it would inherit its colours.
  return createPortal(
    <aside className="drawer" role="dialog" aria-modal="false" aria-labelledby="simulator-title" data-testid="simulator-drawer">
      <header className="drawer-head">
        <h2 id="simulator-title">Customer simulator</h2>
        <button type="button" className="link" aria-label="Close simulator" onClick={onClose} data-testid="simulator-close">
          <Icon name="close" size={18} />
        </button>
      </header>
      <p className="muted small">
        Development only. Posts a correctly signed webhook of the chosen channel, exactly as the provider would, so the
        message takes the real ingest path.
      </p>
      <form
        className="drawer-form"
        onSubmit={(e) => {
          e.preventDefault();
          void send();
        }}
      >
        <label className="drawer-field">
          <span>Channel</span>
          <select
            ref={firstField}
            value={channel}
            onChange={(e) => {
              setChannel(e.target.value);
              setResult(null);
            }}
            data-testid="simulator-channel"
          >
            {names.map((n) => (
              <option key={n} value={n}>
                {channelLabel(inboxChannel(n))}
              </option>
            ))}
          </select>
        </label>
        {shown.map((name) => (
          <label key={`${channel}-${name}`} className="drawer-field">
            <span>{fieldLabel(name)}</span>
            {name === "text" || name === "html" ? (
              <textarea
                rows={name === "text" ? 4 : 3}
                value={current[name] ?? ""}
                onChange={(e) => update(name, e.target.value)}
                onKeyDown={(e) => {
                  if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) {
                    e.preventDefault();
                    void send();
                  }
                }}
                data-testid={`simulator-field-${name}`}
              />
            ) : (
              <input value={current[name] ?? ""} onChange={(e) => update(name, e.target.value)} data-testid={`simulator-field-${name}`} />
            )}
          </label>
        ))}
        <div className="drawer-actions">
          <button type="submit" className="primary" disabled={sending || !channel} data-testid="simulator-send">
            {sending ? "Sending…" : `Send as customer via ${channelLabel(inboxChannel(channel))}`}
          </button>
        </div>
      </form>
      {result && (
        <div
          className={result.ok ? "drawer-result ok" : "drawer-result error"}
          role={result.ok ? "status" : "alert"}
          data-testid="simulator-result"
          data-ok={result.ok}
        >
          {result.text}
        </div>
      )}
    </aside>,
    document.body,
  );
}
