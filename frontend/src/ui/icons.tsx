/**
 * Tiny inline SVG icons (24×24 grid, stroked with currentColor) so the UI never depends on an
 * emoji font being installed. Decorative by default (aria-hidden); pass `label` for a
 * standalone icon that carries meaning on its own.
 */
import type { Channel } from "../api/types";

type Shape = { d: string } | { circle: [number, number, number] };

const p = (d: string): Shape => ({ d });
const c = (cx: number, cy: number, r: number): Shape => ({ circle: [cx, cy, r] });

const SHAPES = {
  sms: [p("M21 15a2 2 0 0 1-2 2H8l-5 4V5a2 2 0 0 1 2-2h14a2 2 0 0 1 2 2z")],
  email: [p("M4 5h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H4a2 2 0 0 1-2-2V7a2 2 0 0 1 2-2z"), p("M22 7l-10 7L2 7")],
  phone: [
    p(
      "M22 16.9v3a2 2 0 0 1-2.2 2 19.8 19.8 0 0 1-8.6-3.1 19.5 19.5 0 0 1-6-6A19.8 19.8 0 0 1 2.1 4.2 2 2 0 0 1 4.1 2h3a2 2 0 0 1 2 1.7c.1 1 .4 1.9.7 2.8a2 2 0 0 1-.5 2.1L8.1 9.9a16 16 0 0 0 6 6l1.3-1.3a2 2 0 0 1 2.1-.4c.9.3 1.8.6 2.8.7a2 2 0 0 1 1.7 2z",
    ),
  ],
  voicemail: [c(6, 12, 4), c(18, 12, 4), p("M6 16h12")],
  google: [p("M19.3 7.5A8 8 0 1 0 20 12h-7.5")],
  simulator: [p("M9 3h6"), p("M10 3v6l-5.6 9.5A1.6 1.6 0 0 0 5.8 21h12.4a1.6 1.6 0 0 0 1.4-2.5L14 9V3"), p("M7.2 15h9.6")],
  label: [p("M20.6 13.4l-7.2 7.2a2 2 0 0 1-2.8 0L2 12V2h10l8.6 8.6a2 2 0 0 1 0 2.8z"), p("M7 7h.01")],
  paperclip: [p("M21.4 11l-9.2 9.2a6 6 0 0 1-8.5-8.5l9.2-9.2a4 4 0 0 1 5.7 5.7l-9.2 9.2a2 2 0 0 1-2.8-2.8l8.5-8.5")],
  bell: [p("M18 8A6 6 0 0 0 6 8c0 7-3 9-3 9h18s-3-2-3-9"), p("M13.7 21a2 2 0 0 1-3.4 0")],
  bellOff: [p("M13.7 21a2 2 0 0 1-3.4 0"), p("M18.6 13A17.9 17.9 0 0 1 18 8"), p("M6.3 6.3A6 6 0 0 0 6 8c0 7-3 9-3 9h14"), p("M18 8a6 6 0 0 0-9.3-5"), p("M2 2l20 20")],
  check: [p("M20 6L9 17l-5-5")],
  checks: [p("M17 6L7 16.5 2.5 12"), p("M22 7l-9.5 9.5-1.5-1.5")],
  clock: [c(12, 12, 9), p("M12 7v5l3 2")],
  warning: [p("M10.3 3.9L1.8 18a2 2 0 0 0 1.7 3h17a2 2 0 0 0 1.7-3L13.7 3.9a2 2 0 0 0-3.4 0z"), p("M12 9v4"), p("M12 17h.01")],
  eye: [p("M1 12s4-8 11-8 11 8 11 8-4 8-11 8S1 12 1 12z"), c(12, 12, 3)],
  note: [p("M14 3H6a2 2 0 0 0-2 2v14a2 2 0 0 0 2 2h12a2 2 0 0 0 2-2V9z"), p("M14 3v6h6"), p("M8 13h8M8 17h5")],
  pencil: [p("M17 3a2.8 2.8 0 1 1 4 4L7.5 20.5 2 22l1.5-5.5z")],
  close: [p("M18 6L6 18M6 6l12 12")],
  file: [p("M14 3H6a2 2 0 0 0-2 2v14a2 2 0 0 0 2 2h12a2 2 0 0 0 2-2V9z"), p("M14 3v6h6")],
  at: [c(12, 12, 4), p("M16 8v5a3 3 0 0 0 6 0v-1a10 10 0 1 0-3.9 7.9")],
} satisfies Record<string, Shape[]>;

export type IconName = keyof typeof SHAPES;

export function Icon({ name, label, size = 16, className }: { name: IconName; label?: string; size?: number; className?: string }) {
  return (
    <svg
      className={`icon${className ? ` ${className}` : ""}`}
      width={size}
      height={size}
      viewBox="0 0 24 24"
      fill="none"
      stroke="currentColor"
      strokeWidth={2}
      strokeLinecap="round"
      strokeLinejoin="round"
      focusable="false"
      {...(label ? { role: "img", "aria-label": label } : { "aria-hidden": true })}
    >
      {label && <title>{label}</title>}
      {SHAPES[name].map((s, i) =>
        "d" in s ? <path key={i} d={s.d} /> : <circle key={i} cx={s.circle[0]} cy={s.circle[1]} r={s.circle[2]} />,
      )}
    </svg>
  );
}

const CHANNEL_ICONS: Record<Channel, IconName> = {
  sms: "sms",
  email: "email",
  voice: "phone",
  google_business: "google",
  simulator: "simulator",
};

export function channelIcon(channel: Channel | string): IconName {
  return CHANNEL_ICONS[channel as Channel] ?? "sms";
}

export function ChannelIcon({ channel, size = 14, label }: { channel: Channel | string; size?: number; label?: string }) {
  return <Icon name={channelIcon(channel)} size={size} label={label} />;
}
