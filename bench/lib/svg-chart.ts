/**
 * A line chart as hand-written SVG (no plotting dependency): log-scaled axes with decade grid
 * lines, one polyline per series, a marker and a value label per measured point, a legend.
 * Pure: returns the SVG text.
 */

export interface ChartPoint {
  x: number;
  y: number;
  /** Text beside the marker (default none). */
  label?: string;
}

export interface ChartSeries {
  name: string;
  color: string;
  points: ChartPoint[];
  /** SVG stroke-dasharray, e.g. `6 4` (default solid). */
  dash?: string;
  /** Draw markers and labels (default true); a computed curve such as a floor sets false. */
  markers?: boolean;
}

export interface ChartOptions {
  title: string;
  xLabel: string;
  yLabel: string;
  series: ChartSeries[];
  /** Tick text for a value on each axis. */
  formatX: (x: number) => string;
  formatY: (y: number) => string;
  width?: number;
  height?: number;
}

/** The right margin leaves room for the labels of the last points. */
const MARGIN = { left: 78, right: 76, top: 48, bottom: 58 };
/** Labels at one x closer than this (px) are pushed apart vertically. */
const LABEL_GAP = 13;

/** Escapes text for SVG content and attribute values. */
export function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** Powers of ten from below `min` to above `max` (the decade grid of a log axis). */
export function decades(min: number, max: number): number[] {
  if (!(min > 0) || !(max >= min)) throw new RangeError('a log axis needs 0 < min <= max');
  const out: number[] = [];
  for (let e = Math.floor(Math.log10(min)); e <= Math.ceil(Math.log10(max)); e++) out.push(10 ** e);
  return out;
}

/** Maps [lo, hi] (log scale) onto [a, b] pixels. */
function logScale(lo: number, hi: number, a: number, b: number): (v: number) => number {
  const l0 = Math.log10(lo);
  const span = Math.log10(hi) - l0 || 1;
  return (v) => a + ((Math.log10(v) - l0) / span) * (b - a);
}

const fixed = (n: number): string => n.toFixed(1);

/** Renders the chart. Every point must be positive (both axes are logarithmic). */
export function renderLineChart(options: ChartOptions): string {
  const width = options.width ?? 760;
  const height = options.height ?? 460;
  const all = options.series.flatMap((s) => s.points);
  if (all.length === 0) throw new RangeError('nothing to plot');
  if (all.some((p) => !(p.x > 0) || !(p.y > 0))) throw new RangeError('log axes need positive values');
  const xTicks = decades(Math.min(...all.map((p) => p.x)), Math.max(...all.map((p) => p.x)));
  const yTicks = decades(Math.min(...all.map((p) => p.y)), Math.max(...all.map((p) => p.y)));
  const plotRight = width - MARGIN.right;
  const plotBottom = height - MARGIN.bottom;
  const sx = logScale(xTicks[0], xTicks[xTicks.length - 1], MARGIN.left, plotRight);
  const sy = logScale(yTicks[0], yTicks[yTicks.length - 1], plotBottom, MARGIN.top);

  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="Helvetica, Arial, sans-serif" font-size="12">`,
    `<rect width="${width}" height="${height}" fill="#ffffff"/>`,
    `<text x="${width / 2}" y="24" text-anchor="middle" font-size="15" font-weight="bold">${escapeXml(options.title)}</text>`,
  ];
  for (const t of xTicks) {
    const px = fixed(sx(t));
    parts.push(`<line x1="${px}" y1="${MARGIN.top}" x2="${px}" y2="${plotBottom}" stroke="#e3e3e3"/>`);
    parts.push(`<text x="${px}" y="${plotBottom + 18}" text-anchor="middle">${escapeXml(options.formatX(t))}</text>`);
  }
  for (const t of yTicks) {
    const py = fixed(sy(t));
    parts.push(`<line x1="${MARGIN.left}" y1="${py}" x2="${plotRight}" y2="${py}" stroke="#e3e3e3"/>`);
    parts.push(
      `<text x="${MARGIN.left - 8}" y="${py}" text-anchor="end" dominant-baseline="middle">${escapeXml(options.formatY(t))}</text>`,
    );
  }
  parts.push(
    `<rect x="${MARGIN.left}" y="${MARGIN.top}" width="${plotRight - MARGIN.left}" height="${plotBottom - MARGIN.top}" fill="none" stroke="#888"/>`,
  );
  parts.push(`<text x="${(MARGIN.left + plotRight) / 2}" y="${height - 16}" text-anchor="middle">${escapeXml(options.xLabel)}</text>`);
  parts.push(
    `<text x="18" y="${(MARGIN.top + plotBottom) / 2}" text-anchor="middle" transform="rotate(-90 18 ${(MARGIN.top + plotBottom) / 2})">${escapeXml(options.yLabel)}</text>`,
  );

  const labels: Array<{ x: number; y: number; text: string; color: string }> = [];
  for (const series of options.series) {
    const points = [...series.points].sort((a, b) => a.x - b.x);
    const dash = series.dash ? ` stroke-dasharray="${series.dash}"` : '';
    const path = points.map((p) => `${fixed(sx(p.x))},${fixed(sy(p.y))}`).join(' ');
    parts.push(`<polyline points="${path}" fill="none" stroke="${series.color}" stroke-width="2"${dash}/>`);
    if (series.markers === false) continue;
    for (const p of points) {
      parts.push(`<circle cx="${fixed(sx(p.x))}" cy="${fixed(sy(p.y))}" r="4" fill="${series.color}"/>`);
      if (p.label) labels.push({ x: sx(p.x) + 7, y: sy(p.y) - 7, text: p.label, color: series.color });
    }
  }
  for (const label of spreadLabels(labels)) {
    // A white halo keeps a label readable where it crosses a line.
    parts.push(
      `<text x="${fixed(label.x)}" y="${fixed(label.y)}" fill="${label.color}" stroke="#ffffff" stroke-width="3" paint-order="stroke">${escapeXml(label.text)}</text>`,
    );
  }

  options.series.forEach((series, i) => {
    const y = MARGIN.top + 16 + i * 18;
    const dash = series.dash ? ` stroke-dasharray="${series.dash}"` : '';
    parts.push(
      `<line x1="${MARGIN.left + 12}" y1="${y}" x2="${MARGIN.left + 40}" y2="${y}" stroke="${series.color}" stroke-width="2"${dash}/>`,
    );
    parts.push(`<text x="${MARGIN.left + 48}" y="${y}" dominant-baseline="middle">${escapeXml(series.name)}</text>`);
  });
  parts.push('</svg>');
  return `${parts.join('\n')}\n`;
}

/** Moves labels that share an x apart so that none overlaps the one above it. */
export function spreadLabels<T extends { x: number; y: number }>(labels: T[]): T[] {
  const out = labels.map((l) => ({ ...l }));
  const columns = new Map<number, T[]>();
  for (const label of out) {
    const key = Math.round(label.x);
    columns.set(key, [...(columns.get(key) ?? []), label]);
  }
  for (const column of columns.values()) {
    column.sort((a, b) => a.y - b.y);
    for (let i = 1; i < column.length; i++) column[i].y = Math.max(column[i].y, column[i - 1].y + LABEL_GAP);
  }
  return out;
}
