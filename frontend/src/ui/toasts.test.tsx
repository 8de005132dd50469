// @vitest-environment jsdom
import { act, cleanup, fireEvent, render, screen } from "@testing-library/react";
import { afterEach, describe, expect, it, vi } from "vitest";
import { Toasts } from "./Toasts";
import { showToast, toastStore } from "./toast";

afterEach(() => {
  cleanup();
  toastStore.set([]);
});

describe("toasts", () => {
  it("offer one action, which runs once and closes the toast", () => {
    const undo = vi.fn();
    render(<Toasts />);
    act(() => void showToast("Resolved “Alice”.", "info", 0, { label: "Undo", run: undo }));
    expect(screen.getByTestId("info-toast").textContent).toContain("Resolved");
    fireEvent.click(screen.getByTestId("toast-action"));
    expect(undo).toHaveBeenCalledTimes(1);
    expect(screen.queryByTestId("info-toast")).toBeNull();
  });
});
