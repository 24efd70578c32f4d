// #/caseload: the tenant's dyads (GET /api/v1/dyads, optionally one therapist's), each with the
// latest client and therapist scores, a sparkline of the client's series (from the dyad's
// timeline, fetched a few at a time), the client-therapist gap and the flags (at risk, open
// rupture, unrepaired, below cutoff, large gap); sortable by column, filtered by flag.
import { enc, get, withQuery } from './api.js';
import { dyadFlags, FLAG_LABELS, learnUsualGaps, loadInstruments, seriesOf, usualGap } from './clinical.js';
import { formatNumber, formatShort, h, replace } from './dom.js';

const MAX_PAGES = 20; // 500 dyads a page: 10,000 dyads at most on one screen
const SPARK_CONCURRENCY = 4;
const SVG = 'http://www.w3.org/2000/svg';

// A small inline SVG line of POMP values (0-100), with an accessible description.
export function sparkline(values, label) {
  const width = 96;
  const height = 24;
  const svg = document.createElementNS(SVG, 'svg');
  svg.setAttribute('viewBox', `0 0 ${width} ${height}`);
  svg.setAttribute('width', String(width));
  svg.setAttribute('height', String(height));
  svg.setAttribute('role', 'img');
  svg.setAttribute('class', 'spark');
  const title = document.createElementNS(SVG, 'title');
  title.textContent = label;
  svg.append(title);
  if (values.length > 0) {
    const step = values.length > 1 ? (width - 4) / (values.length - 1) : 0;
    const y = (v) => 2 + (1 - Math.max(0, Math.min(100, v)) / 100) * (height - 4);
    const points = values.map((v, i) => `${(2 + i * step).toFixed(1)},${y(v).toFixed(1)}`);
    const line = document.createElementNS(SVG, 'polyline');
    line.setAttribute('points', points.join(' '));
    line.setAttribute('fill', 'none');
    line.setAttribute('class', 'spark-line');
    svg.append(line);
    const [lx, ly] = points.at(-1).split(',');
    const dot = document.createElementNS(SVG, 'circle');
    dot.setAttribute('cx', lx);
    dot.setAttribute('cy', ly);
    dot.setAttribute('r', '2');
    dot.setAttribute('class', 'spark-dot');
    svg.append(dot);
  }
  return svg;
}

function latestText(series) {
  if (!series) return '–';
  return `${formatNumber(series.latest)} ${series.instrumentId}`;
}

const COLUMNS = [
  { key: 'therapist', label: 'Therapist', value: (d) => d.therapistId },
  { key: 'client', label: 'Client', value: (d) => d.clientId },
  { key: 'clientScore', label: 'Client score (POMP)', value: (d) => seriesOf(d, 'RATER_CLIENT')?.latestPomp ?? -1 },
  { key: 'therapistScore', label: 'Therapist score (POMP)', value: (d) => seriesOf(d, 'RATER_THERAPIST')?.latestPomp ?? -1 },
  { key: 'trend', label: 'Client series', sortable: false },
  { key: 'gap', label: 'Gap (POMP)', value: (d) => Math.abs((d.gap?.latestGapPomp ?? 0) - usualGap(d)) },
  { key: 'flags', label: 'Flags', value: (d) => Object.values(dyadFlags(d)).filter(Boolean).length },
  { key: 'sessions', label: 'Sessions', value: (d) => Math.max(0, ...(d.series ?? []).map((s) => s.lastSessionNumber ?? 0)) },
  { key: 'updated', label: 'Updated', value: (d) => d.updatedAt ?? '' },
];

export function renderCaseload(view) {
  let stopped = false;
  let dyads = [];
  let sort = { key: 'flags', dir: -1 };
  const sparks = new Map(); // "t/c" -> POMP values of the client series
  const filters = Object.fromEntries(Object.keys(FLAG_LABELS).map((k) => [k, false]));

  const therapist = h('input', { id: 'caseload-therapist', type: 'search', autocomplete: 'off', placeholder: 'e.g. th-01' });
  const load = h('button', { type: 'submit' }, 'Show');
  const status = h('p', { class: 'meta', role: 'status' });
  const flagBoxes = Object.entries(FLAG_LABELS).map(([key, label]) => {
    const id = `filter-${key}`;
    const box = h('input', { type: 'checkbox', id, 'data-filter': key });
    box.addEventListener('change', () => {
      filters[key] = box.checked;
      renderTable();
    });
    return h('span', { class: 'check' }, box, h('label', { for: id }, label));
  });
  const form = h('form', { class: 'filters', role: 'search', 'aria-label': 'Caseload filters' },
    h('label', { for: 'caseload-therapist' }, 'Therapist'), therapist, load,
    h('fieldset', {}, h('legend', {}, 'Only dyads that are'), flagBoxes));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    fetchDyads();
  });
  const tableWrap = h('div', { class: 'table-wrap' });
  replace(view, h('h1', {}, 'Caseload'), form, status, tableWrap);

  function visible() {
    const active = Object.entries(filters).filter(([, on]) => on).map(([k]) => k);
    const rows = dyads.filter((d) => {
      const flags = dyadFlags(d);
      return active.every((k) => flags[k]);
    });
    const column = COLUMNS.find((c) => c.key === sort.key);
    rows.sort((a, b) => {
      const va = column.value(a);
      const vb = column.value(b);
      const c = typeof va === 'number' ? va - vb : String(va).localeCompare(String(vb));
      return c * sort.dir || a.therapistId.localeCompare(b.therapistId) || a.clientId.localeCompare(b.clientId);
    });
    return rows;
  }

  // Every cell carries its column's class (col-<key>): below 900 px the stylesheet hides the
  // columns a narrow screen can spare (the series and the update time; the dyad page has both).
  function headerCell(column) {
    if (column.sortable === false) return h('th', { scope: 'col', class: `col-${column.key}` }, column.label);
    const active = sort.key === column.key;
    const button = h('button', { type: 'button', class: 'sort' }, column.label,
      h('span', { 'aria-hidden': 'true' }, active ? (sort.dir > 0 ? ' ▲' : ' ▼') : ''));
    button.addEventListener('click', () => {
      sort = { key: column.key, dir: active ? -sort.dir : 1 };
      renderTable();
      tableWrap.querySelector(`th[data-key="${column.key}"] button`)?.focus();
    });
    return h('th', { scope: 'col', class: `col-${column.key}`, 'data-key': column.key,
      'aria-sort': active ? (sort.dir > 0 ? 'ascending' : 'descending') : 'none' }, button);
  }

  function row(d) {
    const client = seriesOf(d, 'RATER_CLIENT');
    const ther = seriesOf(d, 'RATER_THERAPIST');
    const flags = dyadFlags(d);
    const key = `${d.therapistId}/${d.clientId}`;
    const values = sparks.get(key);
    const href = `#/dyads/${enc(d.therapistId)}/${enc(d.clientId)}`;
    return h('tr', { 'data-testid': 'caseload-row', 'data-therapist': d.therapistId, 'data-client': d.clientId,
      class: flags.unrepaired ? 'row-unrepaired' : flags.atRisk ? 'row-risk' : '' },
    h('td', { class: 'col-therapist' }, d.therapistId),
    h('th', { scope: 'row', class: 'col-client' }, h('a', { href, 'aria-label': `Dyad of therapist ${d.therapistId} and client ${d.clientId}` }, d.clientId)),
    h('td', { class: 'num col-clientScore' }, client ? formatNumber(client.latestPomp, 0) : '–', h('span', { class: 'sub' }, latestText(client))),
    h('td', { class: 'num col-therapistScore' }, ther ? formatNumber(ther.latestPomp, 0) : '–', h('span', { class: 'sub' }, latestText(ther))),
    h('td', { class: 'col-trend', 'data-spark': key }, values ? sparkline(values, `Client scores over ${values.length} sessions`) : ''),
    h('td', { class: 'num col-gap' }, d.gap?.latestGapPomp !== undefined
      ? [formatNumber(d.gap.latestGapPomp, 0), h('span', { class: 'sub' }, `usual ${formatNumber(usualGap(d), 0)}`)] : '–'),
    h('td', { class: 'col-flags' }, h('ul', { class: 'flags' },
      Object.entries(FLAG_LABELS).filter(([k]) => flags[k]).map(([k, label]) =>
        h('li', { class: `flag flag-${k}`, 'data-flag': k }, label)))),
    h('td', { class: 'num col-sessions' }, String(COLUMNS[7].value(d))),
    h('td', { class: 'nowrap col-updated' }, formatShort(d.updatedAt)));
  }

  function renderTable() {
    const rows = visible();
    const table = h('table', { 'data-testid': 'caseload-table', class: 'caseload' },
      h('caption', {}, `Dyads (${rows.length} of ${dyads.length}); sorted by ${COLUMNS.find((c) => c.key === sort.key).label.toLowerCase()}`),
      h('thead', {}, h('tr', {}, COLUMNS.map(headerCell))),
      h('tbody', {}, rows.map(row)));
    replace(tableWrap, table);
  }

  async function fetchSparks(list) {
    let next = 0;
    const worker = async () => {
      while (!stopped && next < list.length) {
        const d = list[next++];
        const key = `${d.therapistId}/${d.clientId}`;
        try {
          const body = await get(`/api/v1/dyads/${enc(d.therapistId)}/${enc(d.clientId)}/timeline`);
          const values = (body?.points ?? []).filter((p) => p.rater === 'RATER_CLIENT').map((p) => p.pomp ?? 0);
          sparks.set(key, values);
          const cell = tableWrap.querySelector(`td[data-spark="${CSS.escape(key)}"]`);
          if (cell && !stopped) replace(cell, sparkline(values, `Client scores over ${values.length} sessions`));
        } catch {
          // A missing sparkline is not worth an error: the dyad page has the series.
        }
      }
    };
    await Promise.all(Array.from({ length: SPARK_CONCURRENCY }, worker));
  }

  async function fetchDyads() {
    replace(status, 'Loading…');
    try {
      await loadInstruments();
      const all = [];
      let token = '';
      for (let page = 0; page < MAX_PAGES; page++) {
        const body = await get(withQuery('/api/v1/dyads', {
          therapist_id: therapist.value.trim(), page_size: 500, page_token: token,
        }));
        all.push(...(body?.dyads ?? []));
        token = body?.nextPageToken ?? '';
        if (!token) break;
      }
      if (stopped) return;
      dyads = all;
      learnUsualGaps(all);
      replace(status, token ? `Showing the first ${all.length} dyads.` : '');
      renderTable();
      fetchSparks(all.filter((d) => !sparks.has(`${d.therapistId}/${d.clientId}`)));
    } catch (e) {
      if (!stopped) replace(status, `The caseload could not be loaded: ${e.message}`);
    }
  }

  fetchDyads();
  return () => {
    stopped = true;
  };
}
