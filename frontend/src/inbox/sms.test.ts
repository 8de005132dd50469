import { describe, expect, it } from "vitest";
import { isGsm7, smsInfo } from "./sms";

describe("smsInfo", () => {
  it("counts GSM-7 single and multi-part", () => {
    expect(smsInfo("")).toMatchObject({ encoding: "GSM-7", segments: 0 });
    expect(smsInfo("a".repeat(160))).toMatchObject({ encoding: "GSM-7", length: 160, segments: 1, remaining: 0 });
    expect(smsInfo("a".repeat(161))).toMatchObject({ segments: 2, perSegment: 153 });
    expect(smsInfo("a".repeat(306))).toMatchObject({ segments: 2 });
    expect(smsInfo("a".repeat(307))).toMatchObject({ segments: 3 });
  });

  it("counts extension characters as two septets", () => {
    expect(smsInfo("€")).toMatchObject({ encoding: "GSM-7", length: 2 });
    expect(smsInfo("{".repeat(80))).toMatchObject({ length: 160, segments: 1 });
    expect(smsInfo("{".repeat(81))).toMatchObject({ length: 162, segments: 2 });
  });

  it("switches to UCS-2 for other characters", () => {
    expect(isGsm7("héllo")).toBe(true);
    expect(isGsm7("привет")).toBe(false);
    expect(smsInfo("ñ".repeat(10) + "ł")).toMatchObject({ encoding: "UCS-2", segments: 1, perSegment: 70 });
    expect(smsInfo("ł".repeat(70))).toMatchObject({ encoding: "UCS-2", segments: 1 });
    expect(smsInfo("ł".repeat(71))).toMatchObject({ encoding: "UCS-2", segments: 2, perSegment: 67 });
    expect(smsInfo("😀".repeat(35))).toMatchObject({ encoding: "UCS-2", length: 70, segments: 1 });
  });
});
