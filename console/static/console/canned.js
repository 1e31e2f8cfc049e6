// Canned replies in the composer, pure half: which replies match what the agent typed after "/",
// and a reply's text with its variables filled. No DOM here (the unit tests run it under node).
//
// Variables, Chatwoot's way: {{contact.name}}, {{contact.account_number}}, {{agent.name}},
// {{conversation.id}}, {{conversation.channel}}; the hub's older single-brace names
// ({customer_name}, {agent_name}, {account_number}, {channel}) too. hub/domain/knowledge.py holds the
// same list (a canned reply naming another variable is refused when saved). A variable without a
// value stays as written, for the agent to complete.

const DOUBLE = /\{\{\s*([a-z_]+\.[a-z_]+)\s*\}\}/g;
const SINGLE = /\{([A-Za-z_][A-Za-z0-9_]*)\}/g;
const ALIASES = {
  customer_name: 'contact.name', agent_name: 'agent.name', account_number: 'contact.account_number',
  channel: 'conversation.channel',
};
export const MAX_SHOWN = 8;

const fold = (s) => String(s ?? '').normalize('NFKC').toLowerCase();

/** The replies whose id, title or text contain every word of ``query`` (any case; Chinese as is),
 * titles that match first, at most ``limit``. */
export function searchCanned(items, query, limit = MAX_SHOWN) {
  const words = fold(query).split(/\s+/).filter(Boolean);
  const scored = [];
  for (const item of items) {
    const title = fold(`${item.id} ${item.title}`);
    const all = `${title} ${fold(item.text)}`;
    if (!words.every((w) => all.includes(w))) continue;
    const inTitle = words.filter((w) => title.includes(w)).length;
    scored.push({ item, score: words.length ? inTitle / words.length : 0 });
  }
  scored.sort((a, b) => b.score - a.score || String(a.item.title).localeCompare(String(b.item.title)));
  return scored.slice(0, limit).map((s) => s.item);
}

/** ``text`` with its variables filled from ``values`` (keys like "contact.name"). */
export function fillCanned(text, values) {
  const get = (name) => {
    const v = values[name];
    return v === undefined || v === null || v === '' ? null : String(v);
  };
  return String(text)
    .replace(DOUBLE, (whole, name) => get(name) ?? whole)
    .replace(SINGLE, (whole, name) => (ALIASES[name] ? (get(ALIASES[name]) ?? whole) : whole));
}

/** The "/word" the caret stands after (at the start or after a space), or null. */
export function slashToken(value, caret) {
  const before = String(value).slice(0, caret);
  const found = /(^|\s)\/([^\s/]*)$/.exec(before);
  if (!found) return null;
  return { start: before.length - found[2].length - 1, end: caret, query: found[2] };
}
