/** SMS segment counting (GSM 03.38 7-bit default alphabet vs UCS-2). */

const GSM_BASIC =
  "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?" +
  "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";
const GSM_EXTENDED = "^{}\\[~]|€\f";

const basic = new Set(Array.from(GSM_BASIC));
const extended = new Set(Array.from(GSM_EXTENDED));

export interface SmsInfo {
  encoding: "GSM-7" | "UCS-2";
  /** Length in encoding units (septets for GSM-7, UTF-16 code units for UCS-2). */
  length: number;
  segments: number;
  perSegment: number;
  /** Units left in the current segment. */
  remaining: number;
}

export function isGsm7(text: string): boolean {
  for (const ch of text) if (!basic.has(ch) && !extended.has(ch)) return false;
  return true;
}

export function smsInfo(text: string): SmsInfo {
  if (isGsm7(text)) {
    let length = 0;
    for (const ch of text) length += extended.has(ch) ? 2 : 1;
    const perSegment = length <= 160 ? 160 : 153;
    const segments = length === 0 ? 0 : Math.ceil(length / perSegment);
    return { encoding: "GSM-7", length, segments, perSegment, remaining: segments * perSegment - length };
  }
  const length = text.length; // UTF-16 code units
  const perSegment = length <= 70 ? 70 : 67;
  const segments = Math.ceil(length / perSegment);
  return { encoding: "UCS-2", length, segments, perSegment, remaining: segments * perSegment - length };
}
