// The composer's length counter: a reply measured in its channel's unit (the limit comes from the
// server with the conversation: hub/domain/reply_limits.py, which the server enforces on send).
// characters: code points; utf16: UTF-16 units (Telegram); sms_segments: parts of one SMS (sms.js).
import { countSegments } from './sms.js';
import { t as tt } from './i18n.js';

export const DEFAULT_LIMIT = { unit: 'characters', max: 4000 };

/** The text's size in ``limit.unit``. */
export function measure(text, limit) {
  if (limit.unit === 'sms_segments') return countSegments(text).segments;
  if (limit.unit === 'utf16') return String(text).length;
  return Array.from(String(text)).length;
}

/** { over, size, max, hint } for the composer: a counter, or why the reply cannot be sent. */
export function lengthState(text, limit, channelLabel) {
  const lim = limit && Number(limit.max) > 0 ? limit : DEFAULT_LIMIT;
  const size = measure(text, lim);
  const over = size > lim.max;
  const unit = lim.unit === 'sms_segments' ? 'segments' : 'characters';
  const vars = { channel: channelLabel, size, count: lim.max };
  const hint = over ? tt(`limit.too_long_${unit}`, vars) : tt(`limit.counter_${unit}`, vars);
  return { over, size, max: lim.max, hint };
}
