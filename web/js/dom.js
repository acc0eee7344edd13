// Building DOM from data. Text always goes in as text nodes, never as HTML, because most of what
// the pages show (answers, questions, queue message bodies) is not ours to trust.

/**
 * el("p", {class: "hint"}, "Some ", el("strong", {}, "text"))
 * Attributes set to null, undefined or false are left out; true sets an empty attribute.
 * Children that are null, undefined or false are skipped; arrays are flattened.
 */
export function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === null || value === undefined || value === false) continue;
    node.setAttribute(name, value === true ? "" : String(value));
  }
  append(node, children);
  return node;
}

function append(node, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/** Replace everything inside `node` with `children`. */
export function fill(node, ...children) {
  node.replaceChildren();
  append(node, children);
  return node;
}

/** A horizontal bar filled to `fraction` (0 to 1); decorative, so the number beside it is what is read out. */
export function fractionBar(fraction) {
  const filled = el("span", { class: "bar-fill" });
  // Set through the CSSOM: the Content-Security-Policy forbids style attributes in markup.
  filled.style.width = `${Math.max(0, Math.min(1, fraction)) * 100}%`;
  return el("span", { class: "bar", "aria-hidden": "true" }, filled);
}

export function show(node, visible = true) {
  node.hidden = !visible;
}

/** "1,234" in the reader's locale. */
export function formatNumber(value, options = {}) {
  return new Intl.NumberFormat(undefined, options).format(value);
}

/** 0.142 → "14%"; null → "—". */
export function formatPercent(ratio) {
  return ratio === null || ratio === undefined
    ? "—"
    : formatNumber(ratio, { style: "percent", maximumFractionDigits: 0 });
}

/** A 1-5 score with one decimal: 3.4. */
export function formatScore(score) {
  return formatNumber(score, { minimumFractionDigits: 1, maximumFractionDigits: 1 });
}
