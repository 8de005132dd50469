import { describe, expect, it } from "vitest";
import { LABEL_MAX_LENGTH, labelFromInput, labelSuggestions, slugifyLabel, withLabel, withoutLabel } from "./labels";

describe("slugifyLabel", () => {
  it("turns what an agent types into a name the server accepts", () => {
    expect(slugifyLabel("  Churn risk! ")).toBe("churn-risk");
    expect(slugifyLabel("VIP")).toBe("vip");
    expect(slugifyLabel("B2B / reseller")).toBe("b2b-reseller");
    expect(slugifyLabel("tier_1")).toBe("tier_1");
    expect(slugifyLabel("¡¡¡")).toBe("");
  });

  it("never exceeds the server's limit, nor ends in a dash when cut", () => {
    const long = slugifyLabel(`${"a".repeat(LABEL_MAX_LENGTH - 1)} b`);
    expect(long.length).toBeLessThanOrEqual(LABEL_MAX_LENGTH);
    expect(long.endsWith("-")).toBe(false);
  });
});

describe("labelFromInput", () => {
  const known = ["VIP", "churn-risk", "billing"];

  it("picks an existing label whatever the case, so no near-duplicate is created", () => {
    expect(labelFromInput("vip", known)).toBe("VIP");
    expect(labelFromInput("Churn Risk", known)).toBe("churn-risk");
  });

  it("makes a new slug for a new name, and nothing of blank or unusable input", () => {
    expect(labelFromInput("Key account", known)).toBe("key-account");
    expect(labelFromInput("   ", known)).toBeNull();
    expect(labelFromInput("!!!", known)).toBeNull();
  });
});

describe("label sets", () => {
  it("add keeps the set sorted and free of duplicates; remove takes one off", () => {
    expect(withLabel(["vip"], "churn-risk")).toEqual(["churn-risk", "vip"]);
    expect(withLabel(["vip"], "vip")).toEqual(["vip"]);
    expect(withoutLabel(["churn-risk", "vip"], "vip")).toEqual(["churn-risk"]);
  });

  it("suggests only labels the contact does not have yet", () => {
    expect(labelSuggestions(["billing", "vip", "churn-risk"], ["vip"])).toEqual(["billing", "churn-risk"]);
  });
});
