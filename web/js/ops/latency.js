// The latency panel: today's percentiles for answers given at once and for queued ones, and how long jobs
// wait for the queue trigger.
import { el, fill, formatNumber } from "../dom.js";
import { formatMs } from "./format.js";
import { cell, numberCell, table } from "./table.js";

const container = document.getElementById("latency");

const PATHS = [
  ["answered", "Answered at once", "templates and cache"],
  ["queued", "Queued", "answer to stored feedback"],
  ["queue_wait", "Queue wait", "job sent to job started (polling)"],
];

export function renderLatency(latency) {
  const rows = PATHS.map(([key, name, what]) => {
    const stats = latency[key];
    return el(
      "tr",
      { "data-path": key },
      cell([el("strong", {}, name), el("div", { class: "muted small" }, what)]),
      numberCell(stats ? formatNumber(stats.count) : "0"),
      numberCell(formatMs(stats?.p50)),
      numberCell(formatMs(stats?.p95)),
      numberCell(formatMs(stats?.p99)),
    );
  });
  fill(
    container,
    table(
      "Percentiles over today's samples; — means no samples yet.",
      [["Path"], ["Samples", true], ["p50", true], ["p95", true], ["p99", true]],
      rows,
    ),
  );
}

export function renderLatencyUnavailable() {
  fill(container, el("p", { class: "muted" }, "Not available."));
}
