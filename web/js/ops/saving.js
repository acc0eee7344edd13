// The "Saving per layer" panel: how many jobs each layer answered without a remote model, then what the
// day spent (./spent.js) under it.
import { el, fill, formatNumber, formatPercent, fractionBar } from "../dom.js";
import { spentTable } from "./spent.js";
import { cell, numberCell, table } from "./table.js";

const container = document.getElementById("layers");

// The layers in the order a job meets them; every one but "remote" answers without a remote model.
const LAYERS = [
  ["template", "Templates", "greetings, bank questions and declined answers"],
  ["local", "Local evaluator", "answers scored by the built-in rubric evaluator"],
  ["cache", "Cache", "the same job answered before"],
  ["near_duplicate", "Near duplicates", "an almost identical answer answered before"],
  ["dedup", "Deduplicated", "identical jobs in flight, answered once"],
  ["batched", "Batched", "answers reviewed inside the one report call"],
  ["remote", "Remote model", "calls to a remote model"],
];

function layersTable(layers) {
  const total = LAYERS.reduce((sum, [key]) => sum + (layers[key] ?? 0), 0);
  const saved = total - (layers.remote ?? 0);
  const caption = total
    ? `${formatNumber(saved)} of ${formatNumber(total)} (${formatPercent(saved / total)}) answered without a remote call.`
    : "Nothing answered yet today.";
  const rows = LAYERS.map(([key, name, what]) => {
    const count = layers[key] ?? 0;
    return el(
      "tr",
      { "data-layer": key },
      cell([el("strong", {}, name), el("div", { class: "muted small" }, what)]),
      numberCell(formatNumber(count)),
      cell(
        [
          fractionBar(total ? count / total : 0),
          el("span", { class: "small muted" }, total ? formatPercent(count / total) : "—"),
        ],
        {
          class: "layer-share",
        },
      ),
    );
  });
  return table(caption, [["Layer"], ["Jobs", true], ["Share"]], rows);
}

export function renderSaving(summary) {
  fill(
    container,
    layersTable(summary.layers),
    el("h3", {}, "Spent today"),
    el("div", { id: "spent" }, spentTable(summary.spent, summary.interviews)),
  );
}

export function renderSavingUnavailable() {
  fill(container, el("p", { class: "muted" }, "Not available."));
}
