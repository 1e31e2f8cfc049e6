// One conversation action of a header panel (find.js's take/reopen/hand-on, snooze.js's
// snooze/wake): the panel is busy while it runs, its controls follow before and after, and a
// failure is toasted, never thrown.
import { api, convPath } from './api.js';
import { toastError } from './render.js';

/**
 * panel: { summary, busy, follow(summary) }. POSTs `body` to the conversation's `action`, hands the
 * answer to `onDone` (still busy), and resolves to the answer, or null when nothing was done (no
 * conversation, already busy, or refused).
 */
export async function panelAction(panel, action, body, onDone) {
  if (!panel.summary || panel.busy) return null;
  panel.busy = true;
  panel.follow(panel.summary);
  try {
    const data = await api.post(convPath(panel.summary.id, action), body);
    if (onDone) onDone(data);
    return data;
  } catch (err) {
    toastError(err);
    return null;
  } finally {
    panel.busy = false;
    panel.follow(panel.summary);
  }
}
