// The report as files to keep: a readable Markdown document and the data as JSON (the report as the API
// returned it, with the interview's transcript). Built in the browser and handed over as a download.
import { el, formatScore } from "./dom.js";
import { criterionLabel } from "./feedback.js";

const LEVELS = { junior: "junior", mid: "mid-level", senior: "senior" };

/** The role as the report names it: the job title for a custom role. */
function roleName(state, roleTitle) {
  return state.setup.custom_role ?? roleTitle ?? state.setup.role;
}

/** Text safe inside a Markdown paragraph: the candidate's words are shown, never read as markup. */
function escapeMarkdown(text) {
  return String(text).replace(/([\\`*_[\]<>#|])/g, "\\$1");
}

/** A block quote of possibly many lines. */
function quote(text) {
  return String(text)
    .split(/\r?\n/)
    .map((line) => `> ${escapeMarkdown(line)}`.trimEnd())
    .join("\n");
}

function bullets(items, none) {
  return items.length ? items.map((item) => `- ${escapeMarkdown(item)}`).join("\n") : `_${none}_`;
}

/** Evaluation members that are criterion scores: [key, {score, reason}]. */
function scoresOf(feedback) {
  return Object.entries(feedback ?? {}).filter(([, value]) => typeof value?.score === "number");
}

/**
 * The report as a Markdown document: role, date, overall, criteria, then each question with the answer,
 * its scores and feedback, and the strengths and improvements.
 * @param {object} report GET /interviews/{id}/report
 * @param {object} state GET /interviews/{id} (setup and transcript)
 * @param {{roleTitle: string, date: Date}} meta
 */
export function reportMarkdown(report, state, { roleTitle, date }) {
  const setup = state.setup;
  const summaries = new Map(report.answers.map((answer) => [answer.turn, answer]));
  const lines = [
    `# Mock interview report: ${escapeMarkdown(roleName(state, roleTitle))}`,
    "",
    `- Date: ${date.toISOString().slice(0, 10)}`,
    `- Level: ${LEVELS[setup.level] ?? setup.level}; questions: ${setup.kind}`,
    `- Overall: **${formatScore(report.overall)} / 5**`,
    "",
  ];
  if (report.summary) lines.push(escapeMarkdown(report.summary), "");
  lines.push("## By criterion", "", "| Criterion | Score |", "| --- | --- |");
  for (const [key, score] of Object.entries(report.criteria)) {
    lines.push(`| ${criterionLabel(key)} | ${formatScore(score)} / 5 |`);
  }
  lines.push("", "## Strengths", "", bullets(report.strengths, "None stood out yet."), "");
  lines.push("## What to work on", "", bullets(report.improvements, "Nothing in particular."), "");
  lines.push("## Answer by answer", "");
  for (const entry of state.transcript) {
    const summary = summaries.get(entry.turn);
    const feedback = entry.feedback;
    const overall = feedback?.overall ?? summary?.overall;
    lines.push(
      `### Question ${entry.turn}${overall === undefined ? "" : ` (${formatScore(overall)} / 5)`}`,
      "",
      escapeMarkdown(entry.question),
      "",
      "**Your answer:**",
      "",
      entry.answer ? quote(entry.answer) : "_Not answered._",
      "",
    );
    if (feedback) {
      lines.push("**Scores:**", "");
      for (const [key, { score, reason }] of scoresOf(feedback)) {
        lines.push(`- ${criterionLabel(key)}: ${score} / 5 — ${escapeMarkdown(reason)}`);
      }
      lines.push("", `**To improve:** ${escapeMarkdown(feedback.improvement)}`, "");
      lines.push(`**Key points covered:** ${feedback.covered_points.map(escapeMarkdown).join("; ") || "none"}`, "");
      lines.push(`**Key points missed:** ${feedback.missed_points.map(escapeMarkdown).join("; ") || "none"}`, "");
    }
    if (summary?.comment) lines.push(`**Reviewer's note:** ${escapeMarkdown(summary.comment)}`, "");
  }
  lines.push(`_Report written by ${escapeMarkdown(report.written_by)}._`, "");
  return lines.join("\n");
}

/** The report as the API returned it, with the interview's id, setup and transcript. */
export function reportJson(report, state, { date }) {
  const exported = {
    exported_at: date.toISOString(),
    interview: { id: state.id, setup: state.setup, greeting: state.greeting },
    report,
    transcript: state.transcript,
  };
  return `${JSON.stringify(exported, null, 2)}\n`;
}

/** "mock-interview-2026-11-30-backend.md" */
export function exportFileName(state, date, extension) {
  const slug = String(state.setup.custom_role ?? state.setup.role)
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-|-$/g, "");
  return `mock-interview-${date.toISOString().slice(0, 10)}-${slug || "report"}.${extension}`;
}

/** Hand `text` to the browser as a file download. */
export function download(fileName, mediaType, text) {
  const url = URL.createObjectURL(new Blob([text], { type: mediaType }));
  const link = el("a", { href: url, download: fileName, hidden: true });
  document.body.append(link);
  link.click();
  link.remove();
  // Revoked after the click has been handled, so the download has its data.
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
