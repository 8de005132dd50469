import { describe, expect, it } from "vitest";
import type { Attachment } from "../api/types";
import { emailFrameHeight, emailSrcDoc, hasRemoteImages, loadRemoteImages, resolveCidImages } from "./email-html";

const att = (id: number, over: Partial<Attachment> = {}): Attachment => ({
  id,
  filename: `f${id}.png`,
  content_type: "image/png",
  size: 10,
  url: `/api/v1/attachments/${id}/`,
  inline_url: `/media/public/${id}:sig/f${id}.png`,
  status: "ready",
  ...over,
});

describe("remote images", () => {
  const html = '<p>Hi <img alt="a > b" data-remote-src="https://t.example/p.gif?a=1&amp;b=2"> <img src="cid:logo"></p>';

  it("detects blocked remote images only in img tags with http(s) values", () => {
    expect(hasRemoteImages(html)).toBe(true);
    expect(hasRemoteImages("<p>no images</p>")).toBe(false);
    expect(hasRemoteImages("<p>text mentions data-remote-src=&quot;https://x&quot;</p>")).toBe(false);
    expect(hasRemoteImages('<img data-remote-src="javascript:alert(1)">')).toBe(false);
    expect(hasRemoteImages("<IMG data-remote-src='http://x.example/a.png'>")).toBe(true);
    expect(hasRemoteImages("")).toBe(false);
  });

  it("turns http(s) data-remote-src back into src and leaves anything else inert", () => {
    expect(loadRemoteImages(html)).toBe('<p>Hi <img alt="a > b" src="https://t.example/p.gif?a=1&amp;b=2"> <img src="cid:logo"></p>');
    expect(loadRemoteImages("<img data-remote-src='http://x.example/a.png' width=1>")).toBe('<img src="http://x.example/a.png" width=1>');
    expect(loadRemoteImages("<img data-remote-src=http://x.example/a.png>")).toBe('<img src="http://x.example/a.png">');
    const bad = '<img data-remote-src="javascript:alert(1)"><img data-remote-src="data:image/png;base64,AAA">';
    expect(loadRemoteImages(bad)).toBe(bad);
    const already = '<img src="/x.png" data-remote-src="https://x.example/a.png">';
    expect(loadRemoteImages(already)).toBe(already);
    const text = "<p>data-remote-src=&quot;https://x&quot;</p>";
    expect(loadRemoteImages(text)).toBe(text);
  });
});

describe("cid images", () => {
  const attachments = [
    att(12),
    att(10),
    att(11),
    att(13, { url: null as unknown as string, inline_url: null, status: "pending" }),
    att(14, { filename: "invoice.pdf", content_type: "application/pdf", inline_url: null }),
  ];

  it("points cid: sources at the mapped attachment's signed inline link (index in stored order)", () => {
    // Stored order by id: 10, 11, 12, 13, 14 → index 2 is attachment 12.
    expect(resolveCidImages('<img src="cid:chart" alt="c">', { chart: 2 }, attachments)).toBe('<img src="/media/public/12:sig/f12.png" alt="c">');
    expect(resolveCidImages("<img src='cid:%3Cchart%3E'>", { chart: 1 }, attachments)).toBe('<img src="/media/public/11:sig/f11.png">');
    expect(resolveCidImages('<img src="cid:Logo@Acme">', { "logo@acme": 0 }, attachments)).toBe('<img src="/media/public/10:sig/f10.png">');
  });

  it("never uses the cookie-protected url, which the sandboxed iframe cannot load", () => {
    expect(resolveCidImages('<img src="cid:doc">', { doc: 4 }, attachments)).toBe('<img src="cid:doc">');
    const older = [att(10, { inline_url: undefined })]; // an API answer from before inline links
    expect(resolveCidImages('<img src="cid:c">', { c: 0 }, older)).toBe('<img src="cid:c">');
  });

  it("leaves unknown, out-of-range or not-ready cids alone", () => {
    const unknown = '<img src="cid:nope">';
    expect(resolveCidImages(unknown, { chart: 0 }, attachments)).toBe(unknown);
    expect(resolveCidImages('<img src="cid:x">', { x: 9 }, attachments)).toBe('<img src="cid:x">');
    expect(resolveCidImages('<img src="cid:p">', { p: 3 }, attachments)).toBe('<img src="cid:p">');
    expect(resolveCidImages('<img src="cid:x">', undefined, attachments)).toBe('<img src="cid:x">');
    expect(resolveCidImages('<img src="cid:x">', { x: "0" }, attachments)).toBe('<img src="cid:x">');
    expect(resolveCidImages('<p>cid:x</p><a href="cid:x">x</a>', { x: 0 }, attachments)).toBe('<p>cid:x</p><a href="cid:x">x</a>');
  });

  it("builds the srcdoc: cid always, remote only when asked, without a referrer", () => {
    const html = '<img src="cid:c"><img data-remote-src="https://t.example/p.gif">';
    expect(emailSrcDoc(html, { c: 0 }, attachments, false)).toBe('<img src="/media/public/10:sig/f10.png"><img data-remote-src="https://t.example/p.gif">');
    expect(emailSrcDoc(html, { c: 0 }, attachments, true)).toBe(
      '<meta name="referrer" content="no-referrer"><img src="/media/public/10:sig/f10.png"><img src="https://t.example/p.gif">',
    );
  });
});

describe("email frame height", () => {
  it("fits a one-line reply in one line, not a fixed box", () => {
    expect(emailFrameHeight("Thanks!", "<p>Thanks!</p>")).toBe(64);
  });

  it("grows with the lines, block elements and images, up to a screenful", () => {
    const long = Array.from({ length: 12 }, (_, i) => `Line ${i}`).join("\n");
    expect(emailFrameHeight(long, "")).toBe(32 + 12 * 20);
    expect(emailFrameHeight("x", "<p>a</p><p>b</p><p>c</p><img src=\"cid:logo\">")).toBe(32 + 3 * 20 + 150);
    expect(emailFrameHeight("x", "<p>a</p><img data-remote-src=\"https://t.example/p.gif\">")).toBe(64);
    expect(emailFrameHeight("y".repeat(80 * 100), "")).toBe(640);
  });
});
