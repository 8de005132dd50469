import { Suspense, lazy, useEffect, useState } from "react";
import type { Me } from "../api/types";
import { Icon } from "../ui/icons";
import { simulatorApi } from "./api";
import type { SimulatorChannels } from "./simulator-logic";

const SimulatorDrawer = lazy(() => import("./SimulatorDrawer"));

/**
 * "Simulate customer" in the top bar: only for admins, and only when the server exposes
 * /api/v1/simulate/ (development and demo servers, HERON_FAKE_PROVIDERS).
 */
export function SimulatorButton({ me }: { me: Me }) {
  const [channels, setChannels] = useState<SimulatorChannels | null>(null);
  const [open, setOpen] = useState(false);

  useEffect(() => {
    if (me.role !== "admin") return;
    let cancelled = false;
    simulatorApi
      .channels()
      .then((res) => {
        if (!cancelled && res && res.channels && Object.keys(res.channels).length) setChannels(res.channels);
      })
      .catch(() => undefined); // not available on this server: no button
    return () => {
      cancelled = true;
    };
  }, [me.role]);

  if (!channels) return null;
  return (
    <>
      <button
        type="button"
        className="simulator-open"
        aria-expanded={open}
        onClick={() => setOpen((o) => !o)}
        data-testid="simulator-open"
        title="Development only: post a signed webhook as a customer"
      >
        <Icon name="simulator" /> Simulate customer
      </button>
      {open && (
        <Suspense fallback={null}>
          <SimulatorDrawer channels={channels} onClose={() => setOpen(false)} />
        </Suspense>
      )}
    </>
  );
}
