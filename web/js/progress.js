// "Your progress": the candidate's finished interviews kept in this browser (history.js), as each
// criterion's trend, the weakest criterion and the questions to practise next. Pure: history in, nodes out.
import { svg } from "./charts.js";
import { el, formatScore } from "./dom.js";
import { criterionLabel } from "./feedback.js";

// The trend shows this many of the latest interviews; the weakest criterion is the lowest mean over
// WEAKEST_SPAN of them; PRACTISE_COUNT questions are suggested.
export const TREND_SPAN = 10;
export const WEAKEST_SPAN = 5;
export const PRACTISE_COUNT = 3;

const SPARK = { width: 160, height: 40, pad: 5, top: 5 };
const LEVELS = { junior: "Junior", mid: "Mid-level", senior: "Senior" };
const KINDS = { behavioral: "Behavioral", technical: "Technical", mixed: "Mixed" };

const mean = (values) => values.reduce((sum, value) => sum + value, 0) / values.length;

function formatDate(iso) {
  return new Intl.DateTimeFormat(undefined, { dateStyle: "medium" }).format(new Date(iso));
}

/** The criteria in the latest interview's order, then any only older ones scored. */
function criterionKeys(history) {
  const keys = [];
  for (const entry of [...history].reverse()) {
    for (const key of Object.keys(entry.criteria)) if (!keys.includes(key)) keys.push(key);
  }
  return keys;
}

/** [{key, label, scores: [oldest … latest]}] over the last `span` interviews that scored the criterion. */
export function criterionTrends(history, span = TREND_SPAN) {
  const recent = history.slice(-span);
  return criterionKeys(recent).map((key) => ({
    key,
    label: criterionLabel(key),
    scores: recent.map((entry) => entry.criteria[key]).filter((score) => typeof score === "number"),
  }));
}

/** {key, label, mean, count}: the criterion with the lowest mean over the last `span` interviews, or null. */
export function weakestCriterion(history, span = WEAKEST_SPAN) {
  const means = criterionTrends(history, span)
    .filter(({ scores }) => scores.length > 0)
    .map(({ key, label, scores }) => ({ key, label, mean: mean(scores), count: scores.length }));
  // Ties go to the criterion listed first (the API's order), so the answer does not flicker.
  return means.reduce((lowest, item) => (lowest === null || item.mean < lowest.mean ? item : lowest), null);
}

/**
 * The lowest-scored questions, by each question's latest score (one practised since and done well drops
 * out): [{question, score, finishedAt, roleTitle}], lowest first, newest first among equals.
 */
export function questionsToPractise(history, count = PRACTISE_COUNT) {
  const latest = new Map();
  for (const entry of history) {
    for (const { question, score } of entry.questions) {
      latest.set(question, { question, score, finishedAt: entry.finishedAt, roleTitle: entry.roleTitle });
    }
  }
  return [...latest.values()]
    .sort((a, b) => a.score - b.score || b.finishedAt.localeCompare(a.finishedAt))
    .slice(0, count);
}

/** A line of 0-5 scores, oldest to latest; the table row it sits in carries the numbers in text. */
function sparkline(label, scores) {
  const { width, height, pad, top } = SPARK;
  const x = (index) => (scores.length < 2 ? width / 2 : pad + (index * (width - 2 * pad)) / (scores.length - 1));
  const y = (score) => top + ((5 - score) / 5) * (height - top - pad);
  const points = scores.map((score, index) => `${x(index).toFixed(1)},${y(score).toFixed(1)}`);
  return svg(
    "svg",
    {
      class: "sparkline",
      viewBox: `0 0 ${width} ${height}`,
      width,
      height,
      role: "img",
      "aria-label": `${label} across ${scores.length} interview${scores.length === 1 ? "" : "s"}, oldest first: ${scores.map(formatScore).join(", ")}`,
    },
    svg("line", { class: "baseline", x1: 0, x2: width, y1: y(0), y2: y(0) }),
    svg("polyline", { class: "line", points: points.join(" ") }),
    ...scores.map((score, index) => svg("circle", { class: "point", cx: x(index), cy: y(score), r: 2.5 })),
  );
}

function change(scores) {
  if (scores.length < 2) return "—";
  const delta = scores.at(-1) - scores[0];
  const sign = delta > 0 ? "+" : delta < 0 ? "−" : "±";
  return `${sign}${formatScore(Math.abs(delta))}`;
}

function trendTable(history) {
  const trends = criterionTrends(history);
  const shown = Math.min(history.length, TREND_SPAN);
  return el(
    "table",
    { class: "trends" },
    el("caption", {}, `Each criterion across your last ${shown} interview${shown === 1 ? "" : "s"}, oldest first`),
    el(
      "thead",
      {},
      el(
        "tr",
        {},
        ["Criterion", "Trend", "Latest", "Change", "Mean"].map((name) => el("th", { scope: "col" }, name)),
      ),
    ),
    el(
      "tbody",
      {},
      trends.map(({ key, label, scores }) =>
        el(
          "tr",
          { "data-criterion": key },
          el("th", { scope: "row" }, label),
          el("td", {}, sparkline(label, scores)),
          el("td", { class: "latest" }, formatScore(scores.at(-1))),
          el("td", { class: "change" }, change(scores)),
          el("td", { class: "mean" }, formatScore(mean(scores))),
        ),
      ),
    ),
  );
}

function interviewsTable(history) {
  return el(
    "table",
    { class: "past-interviews" },
    el("caption", {}, "Your interviews kept in this browser, newest first"),
    el(
      "thead",
      {},
      el("tr", {}, ["Date", "Role", "Level", "Kind", "Overall"].map((name) => el("th", { scope: "col" }, name))),
    ),
    el(
      "tbody",
      {},
      [...history].reverse().map((entry) =>
        el(
          "tr",
          {},
          el("td", {}, formatDate(entry.finishedAt)),
          el("td", {}, entry.roleTitle),
          el("td", {}, LEVELS[entry.level] ?? entry.level),
          el("td", {}, KINDS[entry.kind] ?? entry.kind),
          el("td", {}, `${formatScore(entry.overall)} / 5`),
        ),
      ),
    ),
  );
}

/** The progress view's content; an empty history says how it fills. */
export function renderProgress(history) {
  if (history.length === 0) {
    return el(
      "p",
      { class: "muted empty-history" },
      "No finished interviews in this browser yet. Each interview you finish is added here, so you can " +
        "follow your scores from one to the next.",
    );
  }
  const weakest = weakestCriterion(history);
  const practise = questionsToPractise(history);
  return [
    el(
      "p",
      { class: "history-count" },
      `${history.length} finished interview${history.length === 1 ? "" : "s"} kept in this browser, ` +
        `from ${formatDate(history[0].finishedAt)} to ${formatDate(history.at(-1).finishedAt)}.`,
    ),
    el(
      "div",
      { class: "points" },
      el(
        "div",
        { class: "weakest" },
        el("h3", {}, "Your weakest criterion"),
        el(
          "p",
          {},
          el("strong", { class: "weakest-name" }, weakest.label),
          ` — a mean of ${formatScore(weakest.mean)} / 5 over your last ${weakest.count} interview${weakest.count === 1 ? "" : "s"}.`,
        ),
      ),
      el(
        "div",
        { class: "practise" },
        el("h3", {}, "Questions to practise next"),
        el(
          "ol",
          { class: "practise-list" },
          practise.map(({ question, score, finishedAt, roleTitle }) =>
            el(
              "li",
              {},
              el("span", { class: "practise-question" }, question),
              el(
                "span",
                { class: "muted small practise-score" },
                ` — ${formatScore(score)} / 5, ${roleTitle}, ${formatDate(finishedAt)}`,
              ),
            ),
          ),
        ),
      ),
    ),
    el("h3", {}, "By criterion"),
    el("div", { class: "table-scroll" }, trendTable(history)),
    el("h3", {}, "Your interviews"),
    el("div", { class: "table-scroll" }, interviewsTable(history)),
  ];
}
