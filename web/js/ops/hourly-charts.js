// The two charts over today's hours (UTC): provider calls per hour, stacked by provider, and the cache
// hit rate per hour. They are drawn at their container's width, so they are redrawn when it changes.
import { ratioLineChart, seriesClass, stackedBarChart } from "../charts.js";
import { el, fill, formatNumber, formatPercent } from "../dom.js";

const HOURS = Array.from({ length: 24 }, (_, hour) => String(hour).padStart(2, "0"));

const callsChart = document.getElementById("calls-chart");
const callsLegend = document.getElementById("calls-legend");
const hitRateChart = document.getElementById("hit-rate-chart");

// The summary last drawn, for redrawing at a new width; null while the charts are not available.
let drawn = null;

export function renderCharts(summary) {
  drawn = summary;
  const byHour = new Map(summary.hourly.map((entry) => [entry.hour, entry]));
  const providers = [
    ...new Set([
      ...Object.keys(summary.provider_calls),
      ...summary.hourly.flatMap((entry) => Object.keys(entry.provider_calls)),
    ]),
  ].sort();
  const series = providers.map((name) => ({
    name,
    values: HOURS.map((hour) => byHour.get(hour)?.provider_calls[name] ?? 0),
  }));
  const total = series.reduce((sum, one) => sum + one.values.reduce((a, b) => a + b, 0), 0);
  const width = (container) => Math.max(280, Math.floor(container.clientWidth));

  fill(
    callsChart,
    stackedBarChart({
      width: width(callsChart),
      hours: HOURS,
      series,
      label: `Provider calls per hour today: ${formatNumber(total)} in all, ${
        providers
          .map((name, index) => `${name} ${formatNumber(series[index].values.reduce((a, b) => a + b, 0))}`)
          .join(", ") || "none yet"
      }.`,
    }),
  );
  fill(
    callsLegend,
    providers.map((name, index) =>
      el("li", {}, el("span", { class: `legend-swatch ${seriesClass(index)}`, "aria-hidden": "true" }), name),
    ),
  );

  const rates = HOURS.map((hour) => byHour.get(hour)?.hit_rate ?? null);
  const measured = rates.filter((rate) => rate !== null);
  fill(
    hitRateChart,
    ratioLineChart({
      width: width(hitRateChart),
      hours: HOURS,
      values: rates,
      label: measured.length
        ? `Cache hit rate per hour today, from ${formatPercent(Math.min(...measured))} to ${formatPercent(Math.max(...measured))}.`
        : "Cache hit rate per hour today: no cache lookups yet.",
    }),
  );
}

/** Draw the charts again at their containers' current width, if they are on screen. */
export function redrawCharts() {
  if (drawn) renderCharts(drawn);
}

export function renderChartsUnavailable() {
  drawn = null;
  fill(callsLegend);
  for (const chart of [callsChart, hitRateChart]) fill(chart, el("p", { class: "muted" }, "Not available."));
}
