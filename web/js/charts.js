// Two small SVG charts for the dashboard, drawn at the container's pixel width so labels stay readable
// on a phone. Colours come from the stylesheet (classes series-N, line, point), not from here.

const SVG_NS = "http://www.w3.org/2000/svg";
const HEIGHT = 200;
const MARGIN = { top: 10, right: 8, bottom: 22, left: 34 };
const SERIES_CLASSES = 8;

/** An SVG element, as dom.js's el() makes HTML ones (attributes all set, children appended). */
export function svg(tag, attributes = {}, ...children) {
  const node = document.createElementNS(SVG_NS, tag);
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, String(value));
  for (const child of children) node.append(child);
  return node;
}

function tooltip(text) {
  return svg("title", {}, text);
}

/** The class giving series `index` its colour. */
export function seriesClass(index) {
  return `series-${index % SERIES_CLASSES}`;
}

/** A round upper bound for the y axis whose half is a whole number too: 2, 4, 10, 20, 40, 100, … */
function niceCeiling(value) {
  if (value <= 2) return 2;
  const magnitude = 10 ** Math.floor(Math.log10(value));
  const step = [1, 2, 4, 10].find((factor) => factor * magnitude >= value);
  return step * magnitude;
}

function frame(width, label) {
  return svg("svg", {
    viewBox: `0 0 ${width} ${HEIGHT}`,
    width,
    height: HEIGHT,
    role: "img",
    "aria-label": label,
  });
}

function plotArea(width) {
  return {
    x0: MARGIN.left,
    x1: width - MARGIN.right,
    y0: HEIGHT - MARGIN.bottom,
    y1: MARGIN.top,
  };
}

/** Horizontal grid lines with their labels, at 0, half and the top of the scale. */
function yAxis(chart, area, top, format) {
  for (const fraction of [0, 0.5, 1]) {
    const y = area.y0 - fraction * (area.y0 - area.y1);
    chart.append(svg("line", { class: "grid", x1: area.x0, x2: area.x1, y1: y, y2: y }));
    chart.append(svg("text", { x: area.x0 - 6, y: y + 4, "text-anchor": "end" }, format(top * fraction)));
  }
}

/** Hour labels under the slots, as many as fit. */
function xAxis(chart, area, hours, slotWidth) {
  const every = slotWidth >= 22 ? 1 : slotWidth >= 11 ? 3 : 6;
  hours.forEach((hour, index) => {
    if (index % every) return;
    const x = area.x0 + slotWidth * (index + 0.5);
    chart.append(svg("text", { x, y: HEIGHT - 6, "text-anchor": "middle" }, hour));
  });
}

/**
 * Stacked bars, one per hour, one colour per series.
 * @param {{width: number, hours: string[], series: {name: string, values: number[]}[], label: string}} spec
 */
export function stackedBarChart({ width, hours, series, label }) {
  const chart = frame(width, label);
  const area = plotArea(width);
  const totals = hours.map((_, index) => series.reduce((sum, one) => sum + one.values[index], 0));
  const top = niceCeiling(Math.max(0, ...totals));
  const scale = (value) => (value / top) * (area.y0 - area.y1);
  const slotWidth = (area.x1 - area.x0) / hours.length;
  const barWidth = Math.max(2, slotWidth * 0.7);

  yAxis(chart, area, top, (value) => String(Math.round(value)));
  hours.forEach((hour, index) => {
    if (!totals[index]) return;
    const breakdown = series
      .filter((one) => one.values[index])
      .map((one) => `${one.name} ${one.values[index]}`)
      .join(", ");
    const bar = svg("g", {}, tooltip(`${hour}:00 — ${totals[index]} calls (${breakdown})`));
    let y = area.y0;
    series.forEach((one, seriesIndex) => {
      const height = scale(one.values[index]);
      if (!height) return;
      y -= height;
      bar.append(
        svg("rect", {
          class: seriesClass(seriesIndex),
          x: area.x0 + slotWidth * index + (slotWidth - barWidth) / 2,
          y,
          width: barWidth,
          height,
        }),
      );
    });
    chart.append(bar);
  });
  xAxis(chart, area, hours, slotWidth);
  return chart;
}

/**
 * A line over the hours for a ratio from 0 to 1; hours without a value (null) break the line.
 * @param {{width: number, hours: string[], values: (number|null)[], label: string}} spec
 */
export function ratioLineChart({ width, hours, values, label }) {
  const chart = frame(width, label);
  const area = plotArea(width);
  const slotWidth = (area.x1 - area.x0) / hours.length;
  const point = (index) => ({
    x: area.x0 + slotWidth * (index + 0.5),
    y: area.y0 - values[index] * (area.y0 - area.y1),
  });

  yAxis(chart, area, 1, (value) => `${Math.round(value * 100)}%`);
  let run = [];
  const drawRun = () => {
    if (run.length > 1) {
      chart.append(svg("polyline", { class: "line", points: run.map(({ x, y }) => `${x},${y}`).join(" ") }));
    }
    run = [];
  };
  values.forEach((value, index) => {
    if (value === null || value === undefined) {
      drawRun();
      return;
    }
    run.push(point(index));
  });
  drawRun();
  values.forEach((value, index) => {
    if (value === null || value === undefined) return;
    const { x, y } = point(index);
    chart.append(
      svg(
        "circle",
        { class: "point", cx: x, cy: y, r: 3.5 },
        tooltip(`${hours[index]}:00 — ${Math.round(value * 100)}% of cache lookups hit`),
      ),
    );
  });
  xAxis(chart, area, hours, slotWidth);
  return chart;
}
