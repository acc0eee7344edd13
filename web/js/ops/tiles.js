// The tiles at the top: today's interviews, provider calls per interview, the cache hit rate and the queues.
import { el, fill, formatNumber, formatPercent } from "../dom.js";
import { formatRatio } from "./format.js";

const container = document.getElementById("tiles");

function tile(label, value, note, attention = false) {
  return el(
    "div",
    { class: attention ? "card tile attention" : "card tile" },
    el("dt", {}, label),
    el("dd", {}, value, note && el("div", { class: "tile-note" }, note)),
  );
}

export function renderTiles(summary) {
  const calls = Object.values(summary.provider_calls).reduce((sum, value) => sum + value, 0);
  const counters = summary.counters;
  fill(
    container,
    el(
      "dl",
      { class: "tiles" },
      tile("Interviews today", formatNumber(summary.interviews), `${formatNumber(summary.turns)} answers`),
      tile(
        "Provider calls per interview",
        summary.interviews ? formatRatio(calls / summary.interviews) : "—",
        `remote: ${formatRatio(summary.remote_calls_per_interview)} (all but the local evaluator)`,
      ),
      tile(
        "Cache hit rate",
        formatPercent(summary.cache_hit_rate),
        `${formatNumber(counters.cache_hits ?? 0)} hits of ${formatNumber(counters.cache_lookups ?? 0)} lookups`,
      ),
      tile("Jobs queue", formatNumber(summary.queues.jobs), "waiting to be scored"),
      tile("Poison queue", formatNumber(summary.queues.poison), "failed jobs", summary.queues.poison > 0),
    ),
  );
}

/** In place of the tiles: why today's figures are missing. */
export function renderTilesUnavailable(reason) {
  fill(container, el("p", { class: "card muted" }, reason));
}
