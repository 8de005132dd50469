import { describe, expect, it } from "vitest";
import { ApiError, errorText } from "./client";

describe("errorText", () => {
  it("keeps the server's reason for a refused change", () => {
    expect(errorText(new ApiError(400, { snoozed_until: ["Say until when the conversation is snoozed."] }))).toBe(
      "snoozed_until: Say until when the conversation is snoozed.",
    );
  });

  it("says what to do when the reason alone does not", () => {
    expect(errorText(new ApiError(403, { detail: "You do not have permission to perform this action." }))).toMatch(/Ask an admin/);
    expect(errorText(new ApiError(403, { detail: "Authentication credentials were not provided." }))).toMatch(/sign in again/);
    expect(errorText(new ApiError(502, "Bad Gateway"))).toMatch(/Try again in a moment/);
    expect(errorText(new TypeError("Failed to fetch"))).toMatch(/Check your connection/);
  });
});
