// Small DOM and formatting helpers shared by the views. Every element is built with the DOM API
// (never innerHTML), so text from the API is always text, and nothing needs inline script or
// style (the page's Content-Security-Policy allows neither).

// h('button', {class: 'x', onclick: fn, dataset: {testid: 'y'}}, 'text', child...)
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs ?? {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key === 'class') el.className = value;
    else if (key === 'dataset') Object.assign(el.dataset, value);
    else if (key.startsWith('on') && typeof value === 'function') el.addEventListener(key.slice(2), value);
    else if (key in el && typeof value !== 'string') el[key] = value;
    else el.setAttribute(key, value === true ? '' : String(value));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

// Replaces the children of `el`.
export function replace(el, ...children) {
  el.replaceChildren();
  append(el, children);
}

// "RATER_CLIENT" -> "client", "ALERT_KIND_UNREPAIRED" -> "unrepaired", "REASON_BELOW_CUTOFF" ->
// "below cutoff": the enum name without its prefix, in words.
export function enumWords(value, prefix) {
  if (!value) return '';
  let v = String(value);
  if (prefix && v.startsWith(prefix)) v = v.slice(prefix.length);
  return v.toLowerCase().replaceAll('_', ' ');
}

const REASONS = {
  REASON_BELOW_CUTOFF: 'below the instrument cutoff',
  REASON_RELIABLE_DROP: 'reliable drop from the last session',
  REASON_DEFLECTION: 'drop below the running level (V-shaped)',
  REASON_DECLINE: 'decline over several sessions',
  REASON_EPISODE_FOLLOW_UP: 'follow-up of an open rupture',
  REASON_CLIENT_NOT_RATING: 'client stopped rating',
};
export function reasonText(reason) {
  return REASONS[reason] ?? enumWords(reason, 'REASON_');
}

export function formatNumber(value, digits = 1) {
  if (value === undefined || value === null || Number.isNaN(value)) return '–';
  return Number(value).toFixed(digits).replace(/\.0+$/, '');
}

// RFC 3339 -> "3 Dec 2026, 20:31" in the browser's locale and time zone.
export function formatTime(rfc3339) {
  if (!rfc3339) return '';
  const d = new Date(rfc3339);
  if (Number.isNaN(d.getTime())) return rfc3339;
  return d.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
}

// "03/12/2026, 20:31" (short, for table cells).
export function formatShort(rfc3339) {
  if (!rfc3339) return '';
  const d = new Date(rfc3339);
  if (Number.isNaN(d.getTime())) return rfc3339;
  return d.toLocaleString(undefined, { dateStyle: 'short', timeStyle: 'short' });
}

export function formatDate(rfc3339) {
  if (!rfc3339) return '';
  const d = new Date(rfc3339);
  return Number.isNaN(d.getTime()) ? rfc3339 : d.toLocaleDateString(undefined, { dateStyle: 'medium' });
}

// A polite live region (in index.html) that screen readers read out.
export function announce(text) {
  const region = document.getElementById('announcer');
  if (!region) return;
  region.textContent = '';
  // A new text node after a tick, so the same message twice is read twice.
  setTimeout(() => { region.textContent = text; }, 50);
}
