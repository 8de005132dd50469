// @vitest-environment jsdom
import { cleanup, fireEvent, render, screen } from "@testing-library/react";
import { useState } from "react";
import { afterEach, describe, expect, it } from "vitest";
import { Dialog } from "./Dialog";

afterEach(cleanup);

function Page() {
  const [open, setOpen] = useState(false);
  return (
    <>
      <button onClick={() => setOpen(true)}>Open</button>
      {open && (
        <Dialog title="Snooze until…" onClose={() => setOpen(false)}>
          <button>First</button>
          <button data-autofocus>Preferred</button>
          <button>Last</button>
        </Dialog>
      )}
    </>
  );
}

describe("Dialog", () => {
  it("takes the focus, keeps Tab inside, closes on Escape and gives the focus back", () => {
    render(<Page />);
    const opener = screen.getByText("Open");
    opener.focus();
    fireEvent.click(opener);
    expect(screen.getByRole("dialog", { name: "Snooze until…" })).toBeTruthy();
    expect(document.activeElement).toBe(screen.getByText("Preferred"));

    screen.getByText("Last").focus();
    fireEvent.keyDown(document.activeElement!, { key: "Tab" });
    expect(document.activeElement).toBe(screen.getByText("First"));
    fireEvent.keyDown(document.activeElement!, { key: "Tab", shiftKey: true });
    expect(document.activeElement).toBe(screen.getByText("Last"));

    fireEvent.keyDown(document.activeElement!, { key: "Escape" });
    expect(screen.queryByRole("dialog")).toBeNull();
    expect(document.activeElement).toBe(opener);
  });
});
