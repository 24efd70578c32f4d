// #/dyads/<therapistId>/<clientId>: one dyad (GET /api/v1/dyads/{t}/{c} and its /timeline). The
// chart (uPlot) puts the client's and the therapist's series on one scale, percent of maximum
// possible (POMP), since the two often rate on different instruments; with the client
// instrument's cutoff as a dashed line, a band of ± the reliable change threshold around the
// client's baseline, markers for rupture, repair and unrepaired on their sessions, and each
// subscale as a line on demand. The session table below holds the same numbers for reading.
// window.allianceChartData exposes what the chart draws (docs/dashboard.md, "The page").
import { enc, get } from './api.js';
import { cutoffPomp, instrument, loadInstruments, reliableChangePomp, seriesOf, toPomp } from './clinical.js';
import { enumWords, formatDate, formatNumber, h, reasonText, replace } from './dom.js';

const MARKER_KINDS = {
  ALERT_KIND_RUPTURE: 'rupture',
  ALERT_KIND_REPAIRED: 'repair',
  ALERT_KIND_UNREPAIRED: 'unrepaired',
};
const COLORS = {
  client: '#1f5fbf',
  therapist: '#8a4b00',
  rupture: '#c62828',
  repair: '#2e7d32',
  unrepaired: '#6a1b9a',
  cutoff: '#c62828',
  band: 'rgba(31, 95, 191, 0.12)',
};
const SUBSCALE_COLORS = ['#00897b', '#7cb342', '#f4511e', '#5e35b1', '#6d4c41', '#00acc1'];
const RATERS = [['client', 'RATER_CLIENT'], ['therapist', 'RATER_THERAPIST']];

// What the chart shows, as plain data (also window.allianceChartData).
function chartData(dyad, points) {
  const clientSeries = seriesOf(dyad, 'RATER_CLIENT');
  const clientInst = instrument(clientSeries?.instrumentId ?? points.find((p) => p.rater === 'RATER_CLIENT')?.instrumentId);
  const series = { client: [], therapist: [] };
  const markers = [];
  for (const p of points) {
    const rater = RATERS.find(([, r]) => r === p.rater)?.[0];
    if (!rater) continue;
    const value = p.pomp ?? toPomp(instrument(p.instrumentId), p.total) ?? 0;
    series[rater].push({ session: p.sessionNumber, value });
    for (const alert of p.alerts ?? []) {
      const kind = MARKER_KINDS[alert.kind];
      if (kind) markers.push({ kind, session: p.sessionNumber, value, rater, alertId: alert.alertId });
    }
  }
  let rciBand = null;
  const rc = reliableChangePomp(clientInst);
  if (clientSeries?.hasBaseline && rc !== null) {
    const base = toPomp(clientInst, clientSeries.baseline);
    if (base !== null) rciBand = [base - rc, base + rc];
  }
  return { units: 'pomp', instrument: clientInst?.id ?? null, cutoff: cutoffPomp(clientInst), rciBand, series, markers };
}

function subscaleSeries(points) {
  // "client: bond" -> Map(session -> pomp)
  const out = new Map();
  for (const p of points) {
    const rater = RATERS.find(([, r]) => r === p.rater)?.[0];
    if (!rater) continue;
    for (const s of p.subscales ?? []) {
      const key = `${rater}: ${s.name}`;
      if (!out.has(key)) out.set(key, new Map());
      out.get(key).set(p.sessionNumber, s.pomp ?? null);
    }
  }
  return out;
}

function drawGuides(data) {
  return (u) => {
    const { ctx } = u;
    const { left, top, width, height } = u.bbox;
    ctx.save();
    if (data.rciBand) {
      const y1 = u.valToPos(Math.min(100, data.rciBand[1]), 'y', true);
      const y0 = u.valToPos(Math.max(0, data.rciBand[0]), 'y', true);
      ctx.fillStyle = COLORS.band;
      ctx.fillRect(left, Math.max(top, y1), width, Math.min(top + height, y0) - Math.max(top, y1));
    }
    if (data.cutoff !== null) {
      const y = Math.round(u.valToPos(data.cutoff, 'y', true)) + 0.5;
      ctx.strokeStyle = COLORS.cutoff;
      ctx.lineWidth = 2 * devicePixelRatio;
      ctx.setLineDash([6 * devicePixelRatio, 4 * devicePixelRatio]);
      ctx.beginPath();
      ctx.moveTo(left, y);
      ctx.lineTo(left + width, y);
      ctx.stroke();
    }
    ctx.restore();
  };
}

function buildChart(container, data, subscales, shown) {
  const sessions = [...new Set([
    ...data.series.client.map((p) => p.session), ...data.series.therapist.map((p) => p.session),
  ])].sort((a, b) => a - b);
  const column = (pairs) => {
    const m = new Map(pairs.map((p) => [p.session, p.value]));
    return sessions.map((s) => (m.has(s) ? m.get(s) : null));
  };
  const markerColumn = (kind) => {
    const m = new Map(data.markers.filter((k) => k.kind === kind).map((k) => [k.session, k.value]));
    return sessions.map((s) => (m.has(s) ? m.get(s) : null));
  };
  const columns = [sessions, column(data.series.client), column(data.series.therapist)];
  const series = [
    { label: 'Session' },
    { label: 'Client', stroke: COLORS.client, width: 2, spanGaps: true, points: { show: true, size: 6 } },
    { label: 'Therapist', stroke: COLORS.therapist, width: 2, spanGaps: true, dash: [8, 4], points: { show: true, size: 6 } },
  ];
  for (const [kind, label] of [['rupture', 'Rupture'], ['repair', 'Repair'], ['unrepaired', 'Unrepaired']]) {
    columns.push(markerColumn(kind));
    series.push({
      label, stroke: COLORS[kind], fill: COLORS[kind], width: 0, paths: () => null,
      points: { show: true, size: 14, width: 2, stroke: COLORS[kind], fill: COLORS[kind] },
    });
  }
  let i = 0;
  for (const [key, bySession] of subscales) {
    const color = SUBSCALE_COLORS[i++ % SUBSCALE_COLORS.length];
    if (!shown.has(key)) continue;
    columns.push(sessions.map((s) => (bySession.has(s) ? bySession.get(s) : null)));
    series.push({ label: key, stroke: color, width: 1, spanGaps: true, dash: [2, 3] });
  }
  const width = Math.max(280, contentWidth(container) || 600);
  const opts = {
    width,
    height: Math.round(Math.min(360, Math.max(220, width * 0.45))),
    scales: { x: { time: false }, y: { range: [0, 100] } },
    axes: [
      { label: 'Session', incrs: [1, 2, 5, 10, 20, 50] },
      { label: 'Percent of maximum (POMP)' },
    ],
    series,
    hooks: { drawClear: [drawGuides(data)] },
  };
  container.replaceChildren();
  return new window.uPlot(opts, columns, container);
}

// The width inside the box's padding: the chart's canvas fills exactly that, never more.
function contentWidth(box) {
  const style = getComputedStyle(box);
  return Math.floor(box.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight));
}

function sessionTable(points) {
  const bySession = new Map();
  for (const p of points) {
    if (!bySession.has(p.sessionNumber)) bySession.set(p.sessionNumber, { time: p.sessionTime, raters: {} });
    bySession.get(p.sessionNumber).raters[p.rater] = p;
  }
  const score = (p) => (p
    ? [`${formatNumber(p.total)} ${p.instrumentId}`, h('span', { class: 'sub' }, `${formatNumber(p.pomp, 0)} POMP`)]
    : '–');
  const events = (session) => Object.values(session.raters).flatMap((p) => (p.alerts ?? []).map((a) =>
    h('li', { class: `event event-${MARKER_KINDS[a.kind] ?? 'other'}` },
      `${enumWords(a.kind, 'ALERT_KIND_')} (${enumWords(p.rater, 'RATER_')}): ${reasonText(a.reason)}`)));
  const flagged = (session) => Object.values(session.raters).flatMap((p) => (p.flaggedItems ?? []).map((f) =>
    `${enumWords(p.rater, 'RATER_')} item ${f.item}: ${formatNumber(f.value)} (check ≤ ${formatNumber(f.checkValue)})`));
  return h('div', { class: 'table-wrap' }, h('table', { 'data-testid': 'dyad-sessions', class: 'sessions' },
    h('caption', {}, 'Sessions: scores and events'),
    h('thead', {}, h('tr', {},
      ['Session', 'Date', 'Client', 'Therapist', 'Events', 'Items at or below their check'].map((t) => h('th', { scope: 'col' }, t)))),
    h('tbody', {}, [...bySession.entries()].sort((a, b) => a[0] - b[0]).map(([n, s]) => h('tr', {},
      h('th', { scope: 'row' }, String(n)),
      h('td', {}, formatDate(s.time)),
      h('td', { class: 'num' }, score(s.raters.RATER_CLIENT)),
      h('td', { class: 'num' }, score(s.raters.RATER_THERAPIST)),
      h('td', {}, h('ul', { class: 'events' }, events(s))),
      h('td', {}, flagged(s).join('; ')))))));
}

function summary(dyad) {
  const items = [];
  for (const s of dyad.series ?? []) {
    const who = enumWords(s.rater, 'RATER_');
    const parts = [`latest ${formatNumber(s.latest)} (${formatNumber(s.latestPomp, 0)} POMP)`];
    if (s.hasBaseline) parts.push(`baseline ${formatNumber(s.baseline)}`);
    if (s.trend) parts.push(`trend ${enumWords(s.trend, 'TREND_')}`);
    if (s.belowCutoff) parts.push('below cutoff');
    if (s.openRupture) {
      parts.push(`open rupture since session ${s.openRupture.onsetSession} (${reasonText(s.openRupture.reason)})` +
        (s.openRupture.escalated ? ', unrepaired' : ''));
    }
    items.push(h('li', {}, h('strong', {}, `${who}, ${s.instrumentId}: `), parts.join(', ')));
  }
  if (dyad.gap?.latestGapPomp !== undefined) {
    items.push(h('li', {}, h('strong', {}, 'Client − therapist gap: '),
      `${formatNumber(dyad.gap.latestGapPomp, 0)} POMP points (mean ${formatNumber(dyad.gap.meanGapPomp, 0)} over ${dyad.gap.sessionsCompared} sessions)`));
  }
  return h('ul', { class: 'summary' }, items);
}

export function renderDyad(view, therapistId, clientId) {
  let stopped = false;
  let chart = null;
  let observer = null;
  window.allianceChartData = null;
  const status = h('p', { class: 'meta', role: 'status' }, 'Loading…');
  replace(view,
    h('p', {}, h('a', { href: '#/caseload' }, '← Caseload')),
    h('h1', {}, `Therapist ${therapistId}, client ${clientId}`),
    status);

  (async () => {
    let dyad;
    let points;
    try {
      await loadInstruments();
      const base = `/api/v1/dyads/${enc(therapistId)}/${enc(clientId)}`;
      const [d, t] = await Promise.all([get(base), get(`${base}/timeline`)]);
      dyad = d?.dyad ?? d ?? {};
      points = t?.points ?? [];
    } catch (e) {
      if (stopped) return;
      replace(status, e.status === 404 || e.status === 403
        ? 'There is no such dyad for this clinic.' : `The dyad could not be loaded: ${e.message}`);
      return;
    }
    if (stopped) return;
    const data = chartData(dyad, points);
    window.allianceChartData = data;
    const subscales = subscaleSeries(points);
    const shown = new Set();
    const chartBox = h('div', { class: 'chart', 'data-testid': 'dyad-chart', role: 'img',
      'aria-label': `Scores by session as percent of maximum: client ${data.series.client.length} sessions, ` +
        `therapist ${data.series.therapist.length}; ${data.markers.length} rupture or repair events. The table below has every value.` });
    const draw = () => {
      if (stopped) return;
      if (!window.uPlot) {
        replace(chartBox, 'The chart library did not load; the table below has every value.');
        return;
      }
      chart?.destroy();
      chart = buildChart(chartBox, data, subscales, shown);
    };
    const toggles = [...subscales.keys()].map((key, i) => {
      const id = `subscale-${i}`;
      const box = h('input', { type: 'checkbox', id });
      box.addEventListener('change', () => {
        if (box.checked) shown.add(key);
        else shown.delete(key);
        draw();
      });
      return h('span', { class: 'check' }, box, h('label', { for: id }, key));
    });
    const inst = instrument(data.instrument);
    const legend = h('ul', { class: 'legend' },
      h('li', { class: 'key-client' }, 'Client (solid line)'),
      h('li', { class: 'key-therapist' }, 'Therapist (dashed line)'),
      data.cutoff !== null
        ? h('li', { class: 'key-cutoff' }, `Cutoff: ${inst?.id} total ${inst?.totalCutoff?.value} (${formatNumber(data.cutoff, 0)} POMP), red dashes`)
        : h('li', {}, `No cutoff for ${inst?.id ?? 'this instrument'}`),
      data.rciBand
        ? h('li', { class: 'key-band' }, `Shaded: client baseline ± reliable change (${formatNumber(data.rciBand[0], 0)}–${formatNumber(data.rciBand[1], 0)} POMP)`)
        : h('li', {}, 'No baseline yet (it needs the first sessions)'),
      h('li', { class: 'key-rupture' }, 'Markers: rupture (red), repair (green), unrepaired (purple)'));
    replace(status, '');
    view.append(
      h('section', { 'aria-labelledby': 'dyad-now' }, h('h2', { id: 'dyad-now' }, 'Now'), summary(dyad)),
      h('section', { 'aria-labelledby': 'dyad-chart-title' },
        h('h2', { id: 'dyad-chart-title' }, 'Scores by session'),
        chartBox, legend,
        toggles.length ? h('fieldset', { class: 'subscales' }, h('legend', {}, 'Subscales'), toggles) : null),
      h('section', { 'aria-labelledby': 'dyad-table-title' },
        h('h2', { id: 'dyad-table-title', class: 'visually-hidden' }, 'Sessions'), sessionTable(points)));
    draw();
    let lastWidth = contentWidth(chartBox);
    observer = new ResizeObserver(() => {
      // Any change of width, so the canvas never sticks out of a narrower box; the box's
      // width does not depend on the canvas (a block), so this cannot loop.
      if (!chart || contentWidth(chartBox) === lastWidth) return;
      lastWidth = contentWidth(chartBox);
      chart.setSize({ width: Math.max(280, lastWidth), height: Math.round(Math.min(360, Math.max(220, lastWidth * 0.45))) });
    });
    observer.observe(chartBox);
  })();

  return () => {
    stopped = true;
    observer?.disconnect();
    chart?.destroy();
    window.allianceChartData = null;
  };
}
