import { describe, expect, it } from "vitest";
import type { Agent } from "../api/types";
import { activeMentionQuery, insertMention, matchAgents, mentionIdsInText, messageMentions, splitMentions } from "./mentions";

const agent = (id: number, name: string, email = `${name.split(" ")[0]!.toLowerCase()}@example.com`): Agent => ({
  id,
  name,
  email,
  role: "agent",
  teams: [],
});
const AGENTS = [agent(1, "Ana Agent"), agent(2, "Bo Berg"), agent(3, "Anders Ahl"), agent(4, "Cy Cole", "support-lead@example.com")];

describe("activeMentionQuery", () => {
  it("finds the @word at the caret", () => {
    expect(activeMentionQuery("hi @an", 6)).toEqual({ start: 3, query: "an" });
    expect(activeMentionQuery("@", 1)).toEqual({ start: 0, query: "" });
    expect(activeMentionQuery("(@bo", 4)).toEqual({ start: 1, query: "bo" });
    expect(activeMentionQuery("@Ana Ag", 7)).toEqual({ start: 0, query: "Ana Ag" });
  });
  it("ignores e-mail addresses, newlines and text after the caret", () => {
    expect(activeMentionQuery("mail ana@example.com", 20)).toBeNull();
    expect(activeMentionQuery("@ana\nnext", 9)).toBeNull();
    expect(activeMentionQuery("no mention here", 5)).toBeNull();
    expect(activeMentionQuery("@ ", 2)).toBeNull();
    expect(activeMentionQuery("hi @an rest", 3)).toBeNull();
  });
  it("stays closed right after a picked name", () => {
    expect(activeMentionQuery("@Bo Berg ", 9, ["Bo Berg"])).toBeNull();
    expect(activeMentionQuery("@Bo Berg please", 15, ["Bo Berg"])).toBeNull();
    expect(activeMentionQuery("@Bo Berg ", 9, [])).toEqual({ start: 0, query: "Bo Berg " });
  });
});

describe("matchAgents", () => {
  it("ranks name prefixes first, then word prefixes and e-mail, and leaves me out", () => {
    expect(matchAgents(AGENTS, "an", 99).map((a) => a.id)).toEqual([1, 3]);
    expect(matchAgents(AGENTS, "ahl", 99).map((a) => a.id)).toEqual([3]);
    expect(matchAgents(AGENTS, "support", 99).map((a) => a.id)).toEqual([4]);
    expect(matchAgents(AGENTS, "", 1).map((a) => a.id)).toEqual([3, 2, 4]);
    expect(matchAgents(AGENTS, "zz", 99)).toEqual([]);
  });
});

describe("insertMention / mentionIdsInText", () => {
  it("replaces the query with @Name and a space, and puts the caret after it", () => {
    const q = activeMentionQuery("please @bo check", 10)!;
    expect(insertMention("please @bo check", q, 10, AGENTS[1]!)).toEqual({ text: "please @Bo Berg check", caret: 16 });
    const q2 = activeMentionQuery("@An", 3)!;
    expect(insertMention("@An", q2, 3, AGENTS[0]!)).toEqual({ text: "@Ana Agent ", caret: 11 });
  });
  it("keeps only mentions still present in the text", () => {
    const picked = [
      { id: 1, name: "Ana Agent" },
      { id: 2, name: "Bo Berg" },
    ];
    expect(mentionIdsInText("@Ana Agent and @Bo Berg", picked)).toEqual([1, 2]);
    expect(mentionIdsInText("@Ana Agent and Bo", picked)).toEqual([1]);
  });
});

describe("splitMentions / messageMentions", () => {
  it("splits the note text around each mentioned name (longest first)", () => {
    const ms = [
      { id: 1, name: "Ana" },
      { id: 2, name: "Ana Agent" },
    ];
    expect(splitMentions("hey @Ana Agent and @Ana!", ms)).toEqual([
      { text: "hey " },
      { text: "@Ana Agent", mention: ms[1] },
      { text: " and " },
      { text: "@Ana", mention: ms[0] },
      { text: "!" },
    ]);
    expect(splitMentions("plain", [])).toEqual([{ text: "plain" }]);
  });
  it("accepts only well-formed metadata", () => {
    expect(messageMentions({ mentions: [{ id: 3, name: "Bo" }, { id: "x" }, null] })).toEqual([{ id: 3, name: "Bo" }]);
    expect(messageMentions({})).toEqual([]);
    expect(messageMentions(undefined)).toEqual([]);
  });
});
