// The live alert inbox: GET /api/v1/alerts, then the Server-Sent Events of
// /api/v1/alerts/stream (EventSource; on its own reconnects the browser resends Last-Event-ID,
// so nothing is lost or repeated; after a refusal the page opens a new stream from the last id
// it saw with ?cursor=). Alerts are kept by id (a repeat replaces, never duplicates). The view
// (#/inbox) shows each alert's reason, the subscale that fell most, the factors and suggested
// focus as the API gives them, who acknowledged/resolved/snoozed it and when, and the buttons.
import { ApiError, currentSession, enc, get, hasScope, post, restoreSession, withQuery } from './api.js';
import { announce, enumWords, formatNumber, formatTime, h, reasonText, replace } from './dom.js';

const STATUS = {
  ALERT_STATUS_OPEN: 'open',
  ALERT_STATUS_ACKNOWLEDGED: 'acknowledged',
  ALERT_STATUS_SNOOZED: 'snoozed',
  ALERT_STATUS_RESOLVED: 'resolved',
};
const MAX_ALERTS = 1000; // kept in memory, newest first

class Inbox {
  constructor() {
    this.alerts = new Map(); // alertId -> Alert
    this.listeners = new Set();
    this.countListeners = new Set();
    this.source = null;
    this.lastId = '';
    this.state = 'off';
    this.retryTimer = null;
    this.retries = 0;
    this.running = false;
  }

  onChange(fn) {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }
  onCount(fn) {
    this.countListeners.add(fn);
  }
  changed(newIds = []) {
    for (const fn of this.listeners) fn(newIds);
    const open = [...this.alerts.values()].filter((a) => a.status === 'ALERT_STATUS_OPEN').length;
    for (const fn of this.countListeners) fn(open);
  }

  setState(state, text) {
    this.state = state;
    const el = document.getElementById('connection-status');
    if (el) {
      el.dataset.state = state;
      replace(el, text);
    }
  }

  // Keeps `alert` (replacing an older copy of the same id); true when it is new.
  put(alert) {
    if (!alert?.alertId) return false;
    const isNew = !this.alerts.has(alert.alertId);
    this.alerts.set(alert.alertId, alert);
    if (this.alerts.size > MAX_ALERTS) {
      const oldest = this.sorted().at(-1);
      if (oldest) this.alerts.delete(oldest.alertId);
    }
    return isNew;
  }

  sorted() {
    const time = (a) => Date.parse(a.detectedAt || a.sessionTime || 0) || 0;
    return [...this.alerts.values()].sort((a, b) => time(b) - time(a));
  }

  async start() {
    if (this.running) return;
    this.running = true;
    this.openStream();
    try {
      // After the stream is open, so an alert raised in between comes by one or the other.
      const body = await get(withQuery('/api/v1/alerts', { page_size: 200 }));
      for (const a of body?.alerts ?? []) this.put(a);
      this.loaded = true;
      this.changed();
    } catch (e) {
      if (e.status !== 401) this.loadError = e.message;
      this.loaded = true;
      this.changed();
    }
  }

  stop() {
    this.running = false;
    clearTimeout(this.retryTimer);
    this.source?.close();
    this.source = null;
    this.alerts.clear();
    this.loaded = false;
    this.lastId = '';
    this.setState('off', 'Live alerts: off');
    this.changed();
  }

  openStream() {
    if (!this.running) return;
    if (!hasScope('watch')) {
      this.setState('unavailable', 'Live alerts: not allowed for this key (no watch scope)');
      return;
    }
    this.setState('connecting', 'Live alerts: connecting…');
    const url = withQuery('/api/v1/alerts/stream', { cursor: this.lastId });
    const source = new EventSource(url, { withCredentials: true });
    this.source = source;
    source.addEventListener('open', () => {
      this.retries = 0;
      this.setState('live', 'Live alerts: connected');
    });
    source.addEventListener('alert', (event) => {
      if (event.lastEventId) this.lastId = event.lastEventId;
      let alert;
      try {
        alert = JSON.parse(event.data);
      } catch {
        return;
      }
      if (this.put(alert)) {
        announce(`New alert: ${enumWords(alert.kind, 'ALERT_KIND_')}, ${enumWords(alert.severity, 'SEVERITY_')}, ` +
          `therapist ${alert.therapistId}, client ${alert.clientId}.`);
        this.changed([alert.alertId]);
      } else {
        this.changed();
      }
    });
    source.addEventListener('error', () => {
      if (source !== this.source) return;
      if (source.readyState === EventSource.CONNECTING) {
        // The browser reconnects by itself (after the server's retry:), with Last-Event-ID.
        this.setState('reconnecting', 'Live alerts: reconnecting…');
        return;
      }
      // Closed: refused (401, 403, 429) or not an event stream. Check the session, then retry
      // with a new stream from the last id seen, backing off up to a minute.
      source.close();
      this.source = null;
      this.setState('reconnecting', 'Live alerts: disconnected, retrying…');
      const delay = Math.min(60000, 2000 * 2 ** this.retries++);
      this.retryTimer = setTimeout(async () => {
        try {
          await restoreSession();
        } catch {
          // Unreachable: retry the stream anyway.
        }
        if (!currentSession()) {
          if (location.hash !== '#/signin') location.hash = '#/signin';
          return;
        }
        this.openStream();
      }, delay);
    });
  }
}

export const inbox = new Inbox();

// The alert workflow: POST acknowledge/resolve/snooze with actor = the signed-in key id.
async function act(alert, action, extra = {}) {
  const session = currentSession();
  const body = {
    actor: session?.keyId ?? '',
    therapistId: alert.therapistId,
    clientId: alert.clientId,
    ...extra,
  };
  const answer = await post(`/api/v1/alerts/${enc(alert.alertId)}/${action}`, body);
  if (answer?.alert) {
    inbox.put(answer.alert);
    inbox.changed();
  }
  return answer?.alert;
}

const SNOOZE_CHOICES = [
  ['3600s', '1 hour'], ['14400s', '4 hours'], ['86400s', '1 day'], ['259200s', '3 days'],
  ['604800s', '1 week'],
];

function history(alert) {
  const lines = [];
  if (alert.acknowledgedBy) lines.push(`Acknowledged by ${alert.acknowledgedBy}, ${formatTime(alert.acknowledgedAt)}`);
  if (alert.snoozedBy) {
    lines.push(`Snoozed by ${alert.snoozedBy}, ${formatTime(alert.snoozedAt)}, until ${formatTime(alert.snoozedUntil)}` +
      (alert.snoozeReason ? `: “${alert.snoozeReason}”` : ''));
  }
  if (alert.resolvedBy) lines.push(`Resolved by ${alert.resolvedBy}, ${formatTime(alert.resolvedAt)}`);
  return lines;
}

function alertItem(alert, { isNew, onError }) {
  const status = STATUS[alert.status] ?? 'open';
  const resolved = alert.status === 'ALERT_STATUS_RESOLVED';
  const titleId = `alert-${alert.alertId}-title`;
  const feedback = h('p', { class: 'error', role: 'alert', hidden: true });
  const fail = (e) => {
    replace(feedback, e instanceof ApiError ? `Not done: ${e.message}` : String(e));
    feedback.hidden = false;
    onError?.(e);
  };
  const run = (button, fn) => async () => {
    button.disabled = true;
    feedback.hidden = true;
    try {
      await fn();
    } catch (e) {
      fail(e);
    } finally {
      button.disabled = false;
    }
  };

  const ack = h('button', { type: 'button', 'data-testid': 'alert-ack', disabled: status !== 'open' && status !== 'snoozed' },
    'Acknowledge');
  ack.addEventListener('click', run(ack, async () => {
    await act(alert, 'acknowledge');
    announce('Alert acknowledged.');
  }));
  const resolve = h('button', { type: 'button', 'data-testid': 'alert-resolve', disabled: resolved }, 'Resolve');
  resolve.addEventListener('click', run(resolve, async () => {
    await act(alert, 'resolve');
    announce('Alert resolved.');
  }));

  // Snooze: a reason (required, 1-200 characters) and a time limit.
  const reasonId = `snooze-reason-${alert.alertId}`;
  const forId = `snooze-for-${alert.alertId}`;
  const reason = h('input', { id: reasonId, type: 'text', required: true, maxlength: 200, 'data-testid': 'snooze-reason' });
  const duration = h('select', { id: forId, 'data-testid': 'snooze-duration' },
    SNOOZE_CHOICES.map(([value, label]) => h('option', { value }, label)));
  const snoozeSubmit = h('button', { type: 'submit', 'data-testid': 'snooze-submit' }, 'Snooze');
  const cancel = h('button', { type: 'button', class: 'link' }, 'Cancel');
  const snoozeForm = h('form', { class: 'snooze', hidden: true, 'aria-label': 'Snooze this alert' },
    h('label', { for: reasonId }, 'Reason'), reason,
    h('label', { for: forId }, 'For'), duration, snoozeSubmit, cancel);
  const snooze = h('button', { type: 'button', 'data-testid': 'alert-snooze', disabled: resolved, 'aria-expanded': 'false' },
    'Snooze…');
  snooze.addEventListener('click', () => {
    snoozeForm.hidden = !snoozeForm.hidden;
    snooze.setAttribute('aria-expanded', String(!snoozeForm.hidden));
    if (!snoozeForm.hidden) reason.focus();
  });
  cancel.addEventListener('click', () => {
    snoozeForm.hidden = true;
    snooze.setAttribute('aria-expanded', 'false');
    snooze.focus();
  });
  snoozeForm.addEventListener('submit', async (event) => {
    event.preventDefault();
    const text = reason.value.trim();
    if (!text) {
      fail(new Error('A snooze needs a reason.'));
      reason.focus();
      return;
    }
    await run(snoozeSubmit, async () => {
      await act(alert, 'snooze', { reason: text, duration: duration.value });
      announce('Alert snoozed.');
    })();
  });

  const drop = alert.subscaleFellMost
    ? `${alert.subscaleFellMost} fell most (${formatNumber(alert.subscaleDropPomp)} points of 100)` : '';
  const rater = enumWords(alert.rater, 'RATER_');
  return h('li', {
    class: `alert card severity-${enumWords(alert.severity, 'SEVERITY_')} status-${status}${isNew ? ' new' : ''}`,
    'data-testid': 'inbox-alert', 'data-alert-id': alert.alertId, 'data-status': status,
    'aria-labelledby': titleId,
  },
  h('div', { class: 'alert-head' },
    h('h2', { id: titleId },
      h('span', { class: 'kind' }, enumWords(alert.kind, 'ALERT_KIND_')), ' · ',
      h('a', { href: `#/dyads/${enc(alert.therapistId)}/${enc(alert.clientId)}` },
        `therapist ${alert.therapistId}, client ${alert.clientId}`)),
    h('span', { class: 'badge severity' }, enumWords(alert.severity, 'SEVERITY_')),
    h('span', { class: 'badge status', 'data-testid': 'alert-status' }, status)),
  h('p', { class: 'meta' },
    `Session ${alert.sessionNumber ?? '?'} (${formatTime(alert.sessionTime)})`,
    rater || alert.instrumentId
      ? `, ${[rater, 'rating', alert.instrumentId ? `on ${alert.instrumentId}` : ''].filter(Boolean).join(' ')}` : '',
    ': ',
    h('strong', {}, reasonText(alert.reason))),
  drop ? h('p', {}, drop) : null,
  alert.factors?.length ? h('p', {}, 'Factors: ', alert.factors.join('; ')) : null,
  alert.suggestedFocus ? h('p', { class: 'focus' }, 'Suggested focus: ', alert.suggestedFocus) : null,
  history(alert).map((line) => h('p', { class: 'history' }, line)),
  h('div', { class: 'actions' }, ack, resolve, snooze),
  snoozeForm,
  feedback);
}

export function renderInbox(view) {
  const statusFilter = h('select', { id: 'inbox-status' },
    h('option', { value: '' }, 'all'),
    Object.entries(STATUS).map(([value, label]) => h('option', { value }, label)));
  const list = h('ul', { class: 'inbox', 'data-testid': 'inbox-list', 'aria-label': 'Alerts, newest first' });
  const summary = h('p', { class: 'meta' });
  const fresh = new Set();
  const built = new Map(); // alertId -> {alert, el}
  const render = (newIds = []) => {
    for (const id of newIds) fresh.add(id);
    const wanted = statusFilter.value;
    const alerts = inbox.sorted().filter((a) => !wanted || a.status === wanted);
    replace(summary, `${alerts.length} alert${alerts.length === 1 ? '' : 's'}` +
      (inbox.loadError ? ` (the list could not be loaded: ${inbox.loadError})` : ''));
    // Keeps focus on the same button when the list is redrawn under it.
    const focused = document.activeElement;
    const focusKey = focused?.closest?.('[data-alert-id]')?.dataset.alertId;
    const focusTestId = focused?.dataset?.testid;
    // An item is rebuilt only when its alert changed, so an open snooze form keeps its text.
    const items = alerts.map((a) => {
      const cached = built.get(a.alertId);
      if (cached && cached.alert === a) return cached.el;
      const el = alertItem(a, { isNew: fresh.has(a.alertId) });
      built.set(a.alertId, { alert: a, el });
      return el;
    });
    list.replaceChildren(...items);
    // The list stays on the page (and visible) when it is empty.
    if (items.length === 0) list.append(h('li', { class: 'empty' }, inbox.loaded ? 'No alerts.' : 'Loading alerts…'));
    if (focusKey && focusTestId) {
      list.querySelector(`[data-alert-id="${CSS.escape(focusKey)}"] [data-testid="${focusTestId}"]`)?.focus();
    }
  };
  statusFilter.addEventListener('change', () => render());
  replace(view,
    h('h1', {}, 'Alerts'),
    h('div', { class: 'filters' }, h('label', { for: 'inbox-status' }, 'Status'), statusFilter),
    summary, list);
  render();
  return inbox.onChange(render);
}
