// The clinical numbers the page shows, from what the API returns (docs/dashboard.md, "The
// page"): scores as percent of maximum possible (POMP), each instrument's cutoff, the reliable
// change threshold (Jacobson & Truax 1991: 1.96 · SD · √2 · √(1 − r), from the instrument's
// populationSd and reliability as GET /api/v1/instruments gives them) and a row's flags.
import { get } from './api.js';

let instruments = null; // Map id -> instrument (ListInstrumentsResponse)

export async function loadInstruments() {
  if (!instruments) {
    const body = await get('/api/v1/instruments');
    instruments = new Map((body?.instruments ?? []).map((i) => [i.id, i]));
  }
  return instruments;
}

export function instrument(id) {
  return instruments?.get(id);
}

function range(inst) {
  const min = inst.totalMin ?? 0;
  const max = inst.totalMax ?? 0;
  return { min, max, span: max - min };
}

// A native total of `inst` as POMP (0-100); null when the range is unknown.
export function toPomp(inst, total) {
  if (!inst || total === undefined || total === null) return null;
  const { min, span } = range(inst);
  return span > 0 ? ((total - min) / span) * 100 : null;
}

// The reliable change threshold of `inst` in its own points (SRS: 4.8; WAI-SR: 6.7).
export function reliableChange(inst) {
  if (!inst?.populationSd || inst.reliability === undefined) return null;
  return 1.96 * inst.populationSd * Math.SQRT2 * Math.sqrt(1 - inst.reliability);
}

// The same threshold in POMP points.
export function reliableChangePomp(inst) {
  const rc = reliableChange(inst);
  const { span } = inst ? range(inst) : { span: 0 };
  return rc !== null && span > 0 ? (rc / span) * 100 : null;
}

// The instrument's cutoff in POMP, or null (WAI-SR has none).
export function cutoffPomp(inst) {
  if (!inst?.totalCutoff || inst.totalCutoff.value === undefined) return null;
  return toPomp(inst, inst.totalCutoff.value);
}

export function seriesOf(dyad, rater) {
  return (dyad.series ?? []).find((s) => s.rater === rater);
}

// Client and therapist often rate on different instruments, and clients rate higher than
// therapists on average (Tryon et al. 2007, d = .63; docs/analytics.md), so a gap in POMP is
// mostly the usual one of its pair of instruments. A gap is shown as large when it differs from
// the usual gap of its instrument pair (the median over the dyads listed, when there are at
// least 5; else 0) by more than the client instrument's reliable change threshold in POMP: a
// difference the client's instrument can tell from noise. Information, not an alert.
const MIN_DYADS_FOR_USUAL_GAP = 5;
let usualGaps = new Map(); // "srs|wai-sr-t" -> median gap

function pairOf(dyad) {
  return `${seriesOf(dyad, 'RATER_CLIENT')?.instrumentId}|${seriesOf(dyad, 'RATER_THERAPIST')?.instrumentId}`;
}

// Sets the usual gaps from the dyads listed (the caseload calls it on every load).
export function learnUsualGaps(dyads) {
  const byPair = new Map();
  for (const d of dyads) {
    const gap = d.gap?.latestGapPomp;
    if (gap === undefined || gap === null) continue;
    const key = pairOf(d);
    if (!byPair.has(key)) byPair.set(key, []);
    byPair.get(key).push(gap);
  }
  usualGaps = new Map();
  for (const [key, gaps] of byPair) {
    if (gaps.length < MIN_DYADS_FOR_USUAL_GAP) continue;
    gaps.sort((a, b) => a - b);
    const mid = Math.floor(gaps.length / 2);
    usualGaps.set(key, gaps.length % 2 ? gaps[mid] : (gaps[mid - 1] + gaps[mid]) / 2);
  }
}

export function usualGap(dyad) {
  return usualGaps.get(pairOf(dyad)) ?? 0;
}

export function largeGap(dyad) {
  const gap = dyad.gap?.latestGapPomp;
  if (gap === undefined || gap === null) return false;
  const client = seriesOf(dyad, 'RATER_CLIENT');
  const threshold = reliableChangePomp(instrument(client?.instrumentId));
  return threshold !== null && Math.abs(gap - usualGap(dyad)) > threshold;
}

// The flags of a caseload row, from ListDyads' fields.
export function dyadFlags(dyad) {
  const series = dyad.series ?? [];
  return {
    atRisk: Boolean(dyad.atRisk),
    openRupture: (dyad.openRuptures ?? 0) > 0 || series.some((s) => s.openRupture),
    unrepaired: Boolean(dyad.unrepaired) || series.some((s) => s.openRupture?.escalated),
    belowCutoff: series.some((s) => s.belowCutoff),
    largeGap: largeGap(dyad),
  };
}

export const FLAG_LABELS = {
  atRisk: 'at risk',
  openRupture: 'open rupture',
  unrepaired: 'unrepaired',
  belowCutoff: 'below cutoff',
  largeGap: 'large gap',
};
