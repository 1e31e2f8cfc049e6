// Message delivery status, channel-neutral: queued (waiting in the outbox of SMS, e-mail,
// Telegram), sent, delivered, read, failed. Statuses only move forward (hub/domain/ids.py).
import { setText, slug } from './render.js';
import { t } from './i18n.js';

export const STATUS_RANK = { queued: 0, sent: 1, delivered: 2, read: 3, failed: 4 };

const MARKS = { queued: '◷', sent: '✓', delivered: '✓✓', read: '✓✓', failed: '!' };

/** The further of two statuses (unknown ones rank lowest). */
export function higherStatus(a, b) {
  const rank = (s) => (s in STATUS_RANK ? STATUS_RANK[s] : -1);
  return rank(b) > rank(a) ? b : a;
}

export function statusLabel(status) {
  return status in STATUS_RANK ? t(`delivery.${status}`) : String(status ?? '');
}

/** Paint a message's status mark: ticks, a clock while queued, a red "!" marker when failed. */
export function paintStatus(node, ticks, status) {
  node.dataset.status = status;
  node.classList.toggle('msg-failed', status === 'failed');
  if (!ticks) return;
  setText(ticks, MARKS[status] || '✓');
  ticks.className = `msg-ticks tick-${slug(status)}`;
  ticks.title = status === 'failed' ? t('delivery.failed_detail') : statusLabel(status);
  ticks.setAttribute('aria-label', statusLabel(status));
  ticks.dataset.testid = 'msg-status';
}
