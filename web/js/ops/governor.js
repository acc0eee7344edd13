// The governor panel: the day's budget of model calls, what was used, the forecast and reserve, and what
// the governor chose for each kind of job and why (core/providers/governor.py).
import { el, fill, formatNumber } from "../dom.js";
import { cell, numberCell, table } from "./table.js";

const container = document.getElementById("governor");

function owners(state) {
  const rows = state.owners.map((owner) =>
    el(
      "tr",
      { "data-owner": owner.owner },
      cell(el("strong", {}, owner.owner)),
      cell(owner.binding),
      numberCell(formatNumber(owner.calls_per_day)),
      numberCell(formatNumber(owner.calls_spent)),
      numberCell(formatNumber(owner.requests_spent)),
      numberCell(formatNumber(owner.tokens_spent)),
    ),
  );
  return table(
    "Per limit owner: report-size calls a day, those spent by its tightest limit, and what the pool reserved today (requests, tokens).",
    [
      ["Owner"],
      ["Binding limit"],
      ["Calls a day", true],
      ["Calls spent", true],
      ["Requests spent", true],
      ["Tokens spent", true],
    ],
    rows,
  );
}

function decisions(state) {
  const kinds = Object.keys(state.demand_today);
  const reasons = Object.keys(state.reasons);
  const rows = kinds.map((kind) =>
    el(
      "tr",
      { "data-kind": kind },
      cell(kind),
      numberCell(formatNumber(state.demand_today[kind])),
      numberCell(formatNumber(state.forecast_rest[kind])),
      ...reasons.map((reason) => numberCell(formatNumber((state.decisions[kind] || {})[reason] || 0))),
    ),
  );
  return table(
    reasons.map((reason) => `${reason}: ${state.reasons[reason]}`).join(" · "),
    [["Kind"], ["Demand today", true], ["Forecast rest", true], ...reasons.map((reason) => [reason, true])],
    rows,
  );
}

export function renderGovernor(state) {
  if (!state || state.owners.length === 0) {
    fill(container, el("p", { class: "muted" }, "No provider keys are configured: every job is scored built-in."));
    return;
  }
  const mode =
    state.mode === "governor"
      ? "The governor decides per job (REMOTE_JOBS unset)."
      : "A fixed policy decides (REMOTE_JOBS set); the governor's figures are shown for comparison.";
  fill(
    container,
    el(
      "p",
      { class: "small" },
      `${mode} Day ${state.day}, hour ${state.hour}: ${formatNumber(state.used_calls)} of ` +
        `${formatNumber(state.capacity_calls)} calls used, ${formatNumber(state.left_calls)} left; ` +
        `${formatNumber(state.reserve_calls)} held for reports, custom roles and follow-ups; ` +
        `margin ${formatNumber(state.margin_calls)}. Earlier days had seen ` +
        `${Math.round(state.share_seen * 100)}% of their demand by now.`,
    ),
    owners(state),
    decisions(state),
  );
}

export function renderGovernorUnavailable() {
  fill(container, el("p", { class: "muted" }, "Not available."));
}
