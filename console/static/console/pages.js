// The console's page registry: every page once, with who may open it. The top bar's navigation is
// made from it (a page's own HTML needs only <header class="topbar" data-page="…">), and pages
// whose HTML still lists links get the registry's missing ones added (topbar.js, syncNav).
import { h } from './render.js';
import { t } from './i18n.js';

const SUPERVISING = ['supervisor', 'admin'];

export const PAGES = [
  { id: 'inbox', href: '/console/', labelKey: 'nav.inbox', roles: null },
  { id: 'supervisor', href: '/console/supervisor', labelKey: 'nav.supervisor', roles: [...SUPERVISING, 'team_leader'] },
  { id: 'reports', href: '/console/reports', labelKey: 'nav.reports', roles: [...SUPERVISING, 'team_leader'] },
  { id: 'work_orders', href: '/console/work_orders', labelKey: 'nav.work_orders', roles: null },
  { id: 'trainer', href: '/console/trainer', labelKey: 'nav.trainer', roles: ['trainer', 'admin'] },
  { id: 'admin', href: '/console/admin', labelKey: 'nav.admin', roles: SUPERVISING },
];

export function mayOpen(page, role) {
  return !page.roles || page.roles.includes(role);
}

/** Add the registry's pages a hand-written nav lacks (by href), shown to the roles that may open them. */
export function syncNav(nav, role) {
  if (!nav) return;
  const present = new Set(Array.from(nav.querySelectorAll('a')).map((a) => a.getAttribute('href')));
  for (const page of PAGES) {
    if (present.has(page.href) || page.id === 'work_orders') continue;  // work orders: linked where they apply
    nav.appendChild(h('a', { class: 'topnav-link', href: page.href, 'data-testid': `nav-${page.id}`,
      dataset: { page: page.id } }, t(page.labelKey)));
  }
  for (const link of nav.querySelectorAll('a[data-page]')) {
    const page = PAGES.find((p) => p.id === link.dataset.page);
    if (page) link.hidden = !mayOpen(page, role);
  }
}

/** The whole top bar of a page that has only <header class="topbar" data-page="…">. */
export function renderTopbar(header) {
  const current = header.dataset.page;
  const nav = h('nav', { class: 'topnav', 'aria-label': t('nav.pages') });
  for (const page of PAGES) {
    if (page.id === 'work_orders') continue;
    const here = page.id === current;
    nav.appendChild(h('a', { class: `topnav-link${here ? ' is-current' : ''}`, href: page.href,
      'aria-current': here ? 'page' : null, 'data-testid': `nav-${page.id}`, dataset: { page: page.id } }, t(page.labelKey)));
  }
  const select = h('select', { class: 'status-select', id: 'agent-status', 'data-testid': 'agent-status' },
    ...['available', 'away', 'offline'].map((v) => h('option', { value: v }, t(`status.${v}`))));
  header.replaceChildren(
    h('div', { class: 'brand' }, h('span', { class: 'brand-mark', 'aria-hidden': 'true' }),
      h('span', { class: 'brand-name' }, 'Northgrid Hub')),
    nav,
    h('div', { class: 'conn-status', id: 'conn-status', role: 'status', hidden: true }),
    h('div', { class: 'me' },
      h('span', { class: 'me-name', id: 'agent-name', 'data-testid': 'agent-name' }),
      h('span', { class: 'role-badge', id: 'agent-role' }),
      h('label', { class: 'status-control' },
        h('span', { class: 'status-dot', id: 'agent-status-dot', 'aria-hidden': 'true' }),
        h('span', { class: 'visually-hidden' }, t('topbar.my_status')), select),
      h('button', { type: 'button', class: 'btn btn-ghost', id: 'logout', 'data-testid': 'logout' }, t('topbar.logout'))),
  );
}
