// The tables the dashboard's panels are made of.
import { el } from "../dom.js";

/**
 * A table; `headings` are [text, numeric?]. With `stacked`, each row becomes a card on phones, every
 * cell labelled with its column's heading (data-label, shown by the stylesheet).
 */
export function table(caption, headings, rows, { stacked = false } = {}) {
  if (stacked) {
    for (const row of rows) {
      [...row.cells].forEach((td, index) => td.setAttribute("data-label", headings[index][0]));
    }
  }
  return el(
    "table",
    { class: stacked ? "stacked" : null },
    caption && el("caption", {}, caption),
    el(
      "thead",
      {},
      el(
        "tr",
        {},
        headings.map(([text, numeric]) => el("th", { scope: "col", class: numeric ? "number" : null }, text)),
      ),
    ),
    el("tbody", {}, rows),
  );
}

export const cell = (content, attributes = {}) => el("td", attributes, content);
export const numberCell = (content) => el("td", { class: "number" }, content);
