// SMS segment counter for the composer: GSM-7 or UCS-2, parts, units left in the last part.
// Counts exactly like channels/sms/segments.py (the unit tests compare both tables):
// GSM-7 basic characters take one septet, its extension table (^{}\[~]|€ and form feed) two;
// anything else makes the whole text UCS-2, counted in UTF-16 units (an emoji takes two).
// One SMS: 160 septets / 70 units; parts of a longer one: 153 / 67; a character never straddles parts.
import { t as tr } from './i18n.js';

export const GSM7_BASIC =
  '@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !"#¤%&\'()*+,-./0123456789:;<=>?' +
  '¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà';
export const GSM7_EXTENSION = '\f^{}\\[~]|€';

const BASIC = new Set(GSM7_BASIC);
const EXTENSION = new Set(GSM7_EXTENSION);
const CAPACITY = { gsm7: [160, 153], ucs2: [70, 67] };

/** { encoding: 'gsm7'|'ucs2', units, segments, perSegment, remaining } for a text. */
export function countSegments(text) {
  const chars = Array.from(text); // code points: a surrogate pair is one character
  const gsm = chars.every((c) => BASIC.has(c) || EXTENSION.has(c));
  const encoding = gsm ? 'gsm7' : 'ucs2';
  const cost = (c) => (gsm ? (EXTENSION.has(c) ? 2 : 1) : (c.codePointAt(0) > 0xffff ? 2 : 1));
  const costs = chars.map(cost);
  const units = costs.reduce((a, b) => a + b, 0);
  const [single, multi] = CAPACITY[encoding];
  if (units <= single) {
    return { encoding, units, segments: chars.length ? 1 : 0, perSegment: single, remaining: single - units };
  }
  let segments = 0;
  let used = 0;
  for (const c of costs) {
    if (used + c > multi) { segments += 1; used = 0; }
    used += c;
  }
  segments += 1;
  return { encoding, units, segments, perSegment: multi, remaining: multi - used };
}

/** The composer hint for an SMS conversation, e.g. "SMS · UCS-2 · 2 segments · 41 left". */
export function segmentHint(text) {
  const c = countSegments(text);
  const name = c.encoding === 'gsm7' ? 'GSM-7' : 'UCS-2';
  return tr('sms.hint', { name, count: c.segments, left: c.remaining });
}
