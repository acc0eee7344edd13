// The capacity panel: what the configured keys allow a day by the catalogue's limits, per limit owner.
import { el, fill, formatNumber } from "../dom.js";
import { cell, numberCell, table } from "./table.js";

const container = document.getElementById("capacity");

export function renderCapacity(capacity) {
  if (!capacity || capacity.owners.length === 0) {
    fill(container, el("p", { class: "muted" }, "No provider keys are configured: every job is scored built-in."));
    return;
  }
  const rows = capacity.owners.map((owner) =>
    el(
      "tr",
      { "data-owner": owner.owner },
      cell([
        el("strong", {}, owner.owner),
        el("div", { class: "muted small" }, `${owner.entries.join(", ")} · ${owner.keys} key(s)`),
      ]),
      cell(owner.binding),
      numberCell(formatNumber(owner.report_calls_per_day)),
      numberCell(formatNumber(owner.evaluation_calls_per_day)),
    ),
  );
  const tokens = Object.entries(capacity.tokens_per_call)
    .map(([kind, count]) => `${kind} ${formatNumber(count)}`)
    .join(", ");
  fill(
    container,
    el(
      "p",
      { class: "small" },
      `A day's free capacity: ${formatNumber(capacity.reports_per_day)} reports, or ` +
        `${formatNumber(capacity.answers_per_day)} answers scored in batches of 8 (one pool: not both).`,
    ),
    table(
      `Per limit owner, calls a day by its tightest limit. Limits checked ${capacity.catalogue_checked_on}; ` +
        `tokens per call (${tokens}) measured ${capacity.tokens_measured_on}.`,
      [["Owner"], ["Binding limit"], ["Report calls", true], ["Batches of 8", true]],
      rows,
    ),
  );
}

export function renderCapacityUnavailable() {
  fill(container, el("p", { class: "muted" }, "Not available."));
}
