import { API, request } from "../api/client";
import type { SimulatorChannels, SimulatorOptions } from "./simulator-logic";

export interface SimulateResult {
  status_code: number;
  body: string;
}

export const simulatorApi = {
  /** 404 when the server runs without HERON_FAKE_PROVIDERS, 403 for non-admins. */
  channels: () => request<{ channels: SimulatorChannels }>("GET", `${API}/simulate/`),
  send: (channel: string, options: SimulatorOptions) =>
    request<SimulateResult>("POST", `${API}/simulate/`, { channel, options }),
};
