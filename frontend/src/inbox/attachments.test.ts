import { describe, expect, it } from "vitest";
import { MAX_FILE_BYTES, addFiles, attachmentProblem, multipartBody } from "./attachments";

const MB = 1024 * 1024;
const f = (name: string, size: number, type = "image/png") => ({ name, size, type });

describe("addFiles", () => {
  it("adds files, skips duplicates and explains what was left out", () => {
    const a = f("a.png", 1000);
    let res = addFiles([], [a, f("huge.mov", MAX_FILE_BYTES + 1), a]);
    expect(res.files.map((x) => x.name)).toEqual(["a.png"]);
    expect(res.error).toMatch(/huge\.mov is 10\.0 MB; each file can be at most 10\.0 MB/);
    res = addFiles(res.files, [1, 2, 3, 4, 5].map((i) => f(`${i}.png`, 10)));
    expect(res.files).toHaveLength(5);
    expect(res.error).toBe("At most 5 files per message: 1 not added.");
    expect(addFiles([], [f("empty.txt", 0)]).error).toMatch(/empty/);
  });
});

describe("attachmentProblem", () => {
  it("limits SMS to 5 MB in total but not email, notes or a reply whose channel is not known yet", () => {
    const files = [f("a.jpg", 3 * MB), f("b.jpg", 3 * MB)];
    expect(attachmentProblem(files, "sms")).toMatch(/at most 5\.0 MB in total/);
    expect(attachmentProblem(files, "email")).toBeNull();
    expect(attachmentProblem(files, null)).toBeNull();
    expect(attachmentProblem([], "sms")).toBeNull();
    expect(attachmentProblem([f("a.jpg", 10)], "voice")).toMatch(/cannot carry files/);
  });
});

describe("multipartBody", () => {
  it("carries the fields, repeated mentions and files", () => {
    const file = new File(["png"], "shot.png", { type: "image/png" });
    const fd = multipartBody({ text: "see @Bo", private: true, mentions: [2, 3] }, [file]);
    expect(fd.get("text")).toBe("see @Bo");
    expect(fd.get("private")).toBe("true");
    expect(fd.getAll("mentions")).toEqual(["2", "3"]);
    expect(fd.has("channel")).toBe(false);
    const sent = fd.getAll("files") as File[];
    expect(sent).toHaveLength(1);
    expect(sent[0]!.name).toBe("shot.png");
    const reply = multipartBody(
      { text: "hi", private: false, channel: "email", subject: "Re: x", cc: ["a@example.org", "b@example.org"] },
      [file],
    );
    expect([reply.get("channel"), reply.get("subject"), reply.get("private")]).toEqual(["email", "Re: x", "false"]);
    expect(reply.getAll("cc")).toEqual(["a@example.org", "b@example.org"]);
  });
});
