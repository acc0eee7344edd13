// How feedback on one answer, and the final report, are laid out. Pure rendering: data in, nodes out.
import { el, formatScore, fractionBar } from "./dom.js";

// The criteria are not listed here: they are whatever the API scored, in the order it gives them, each
// named after its key ("relevance" → "Relevance").
export function criterionLabel(key) {
  const words = key.replaceAll("_", " ");
  return words.charAt(0).toUpperCase() + words.slice(1);
}

/** An Evaluation's criteria: [key, label, {score, reason}] for every member that is a criterion score. */
function evaluationCriteria(feedback) {
  return Object.entries(feedback)
    .filter(([, value]) => typeof value?.score === "number" && typeof value.reason === "string")
    .map(([key, value]) => [key, criterionLabel(key), value]);
}

/** A report's criteria: [key, label, mean score], from report.criteria. */
function reportCriteria(report) {
  return Object.entries(report.criteria ?? {}).map(([key, score]) => [key, criterionLabel(key), score ?? 0]);
}

const SOURCES = {
  template: "answered from a template, straight away",
  local: "scored by the built-in evaluator, straight away",
  cache: "the same answer was scored before, so its score was reused",
  provider: "scored after a short wait in the queue",
};

/** Who scored an answer, in words: "local" is the built-in evaluator, anything else a named model provider. */
function scorerName(scoredBy, scorer) {
  if (scorer?.kind === "model") return `a model: ${scorer.provider}${scorer.model ? ` (${scorer.model})` : ""}`;
  if (scoredBy === "local") return "the built-in evaluator";
  if (scoredBy === "template") return "a template";
  return scoredBy;
}

function scorePips(score) {
  // Five marks, filled up to the score: readable at a glance; the number next to it is what is read out.
  return el(
    "span",
    { class: "pips", "aria-hidden": "true" },
    [1, 2, 3, 4, 5].map((step) => el("span", { class: step <= score ? "pip filled" : "pip" })),
  );
}

function overall(score, label) {
  return el(
    "p",
    { class: "overall" },
    el("span", { class: "overall-score" }, formatScore(score)),
    el("span", { class: "overall-label" }, ` / 5 ${label}`),
  );
}

function listOrNone(items, noneText, attributes = {}) {
  return items.length
    ? el(
        "ul",
        attributes,
        items.map((item) => el("li", {}, item)),
      )
    : el("p", { class: "muted" }, noneText);
}

/**
 * Feedback on one answer, from a TurnResult: the overall score, each criterion with its reason,
 * the quotes it rests on, one improvement, the key points covered and missed, and who scored it.
 */
export function renderFeedback(result) {
  const feedback = result.feedback;
  return [
    el("h2", { id: "feedback-heading", tabindex: "-1" }, `Feedback on question ${result.turn}`),
    overall(feedback.overall, "overall"),
    el(
      "ul",
      { class: "criteria" },
      evaluationCriteria(feedback).map(([key, label, { score, reason }]) =>
        el(
          "li",
          { class: "criterion", "data-criterion": key },
          el(
            "div",
            { class: "criterion-head" },
            el("span", { class: "criterion-name" }, label),
            scorePips(score),
            el("span", { class: "criterion-score" }, `${score} / 5`),
          ),
          el("p", { class: "reason" }, reason),
        ),
      ),
    ),
    el("h3", {}, "One thing to improve"),
    el("p", { class: "improvement" }, feedback.improvement),
    feedback.evidence.length > 0 && [
      el("h3", {}, "What the scores rest on"),
      el(
        "ul",
        { class: "evidence" },
        feedback.evidence.map((quote) => el("li", {}, el("q", {}, quote))),
      ),
    ],
    el(
      "div",
      { class: "points" },
      el(
        "div",
        {},
        el("h3", {}, "Key points you covered"),
        listOrNone(feedback.covered_points, "None of the expected key points yet.", { class: "covered" }),
      ),
      el(
        "div",
        {},
        el("h3", {}, "Key points you missed"),
        listOrNone(feedback.missed_points, "None — you covered them all.", { class: "missed" }),
      ),
    ),
    exampleAnswer(result.example_answer),
    el(
      "p",
      { class: "scored-by muted" },
      `Scored by ${scorerName(feedback.scored_by, feedback.scorer)}`,
      SOURCES[result.source] ? ` (${SOURCES[result.source]}).` : ".",
      result.provisional ? " Provisional: a model's score is on its way and will replace it here." : "",
    ),
  ];
}

/** One way to answer the question, shown only with feedback: a model's, or the key points' outline. */
function exampleAnswer(example) {
  if (!example) return null;
  return el(
    "section",
    { class: "example-answer", "data-kind": example.kind },
    el("h3", {}, "What a strong answer looks like"),
    el("p", { class: "example-label muted" }, example.label),
    el("p", { class: "example-text" }, example.text),
  );
}

/** With a job ad: which of its skills the answers showed (the same vocabulary read the ad and the answers). */
function adSkills(skills) {
  if (!skills) return null;
  const named = skills.shown.length + skills.not_shown.length > 0;
  const lists = el(
    "div",
    { class: "points" },
    el(
      "div",
      {},
      el("h4", {}, "Your answers showed"),
      listOrNone(skills.shown, "None of them yet.", { class: "covered ad-skills-shown" }),
    ),
    el(
      "div",
      {},
      el("h4", {}, "Your answers did not show"),
      listOrNone(skills.not_shown, "None — your answers showed them all.", { class: "missed ad-skills-not-shown" }),
    ),
  );
  return el(
    "section",
    { class: "ad-skills-report", "aria-labelledby": "ad-skills-heading" },
    el("h3", { id: "ad-skills-heading" }, "The job ad's skills"),
    named ? lists : el("p", { class: "muted" }, "The ad named no skills we know of."),
  );
}

function turnList(turns) {
  const words = turns.map(String);
  return words.length < 2 ? words.join("") : `${words.slice(0, -1).join(", ")} and ${words.at(-1)}`;
}

/**
 * The final report: overall and per-criterion scores, strengths, improvements, each answer in brief,
 * and which answers the built-in evaluator scored.
 */
export function renderReport(report) {
  return [
    overall(report.overall, "overall"),
    report.summary && el("p", { class: "summary" }, report.summary),
    el("h3", {}, "By criterion"),
    el(
      "ul",
      { class: "criteria-bars" },
      reportCriteria(report).map(([key, label, score]) =>
        el(
          "li",
          { "data-criterion": key },
          el("span", { class: "criterion-name" }, label),
          fractionBar(score / 5),
          el("span", { class: "criterion-score" }, `${formatScore(score)} / 5`),
        ),
      ),
    ),
    el(
      "div",
      { class: "points" },
      el(
        "div",
        {},
        el("h3", {}, "Strengths"),
        listOrNone(report.strengths, "None stood out yet.", { class: "strengths" }),
      ),
      el(
        "div",
        {},
        el("h3", {}, "What to work on"),
        listOrNone(report.improvements, "Nothing in particular.", { class: "improvements" }),
      ),
    ),
    adSkills(report.ad_skills),
    el("h3", {}, "Answer by answer"),
    el(
      "ol",
      { class: "answers" },
      report.answers.map((answer) =>
        el(
          "li",
          { class: "answer-summary" },
          el(
            "p",
            { class: "answer-summary-head" },
            el("strong", {}, `Question ${answer.turn}`),
            el("span", { class: "answer-summary-score" }, `${formatScore(answer.overall)} / 5`),
          ),
          el("p", { class: "answer-summary-question" }, answer.question),
          answer.follow_up
            ? el("p", {}, el("span", { class: "muted" }, "Follow-up: "), answer.follow_up, " — ",
                answer.follow_up_answer ?? el("span", { class: "muted" }, "skipped"))
            : null,
          el("p", {}, el("span", { class: "muted" }, "To improve: "), answer.improvement),
          answer.comment ? el("p", {}, el("span", { class: "muted" }, "Reviewer's note: "), answer.comment) : null,
          el("p", { class: "muted small" }, `Scored by ${scorerName(answer.scored_by, answer.scorer)}`),
        ),
      ),
    ),
    el(
      "p",
      { class: "scored-locally muted" },
      report.scored_locally.length
        ? `Scored locally by the built-in evaluator: question${report.scored_locally.length > 1 ? "s" : ""} ${turnList(report.scored_locally)}.`
        : "No answer was scored locally: every answer was scored by a model provider or a template.",
      ` Report written by ${scorerName(report.written_by)}.`,
    ),
  ];
}

// Rough guides for the delivery figures, said as such: conversational English runs at about 120 to 160
// words a minute, and a few fillers per 100 words go unnoticed.
const PACE_GUIDE = { slow: 110, fast: 170 };
const FILLERS_GUIDE = 3;

function paceComment(wordsPerMinute) {
  if (wordsPerMinute < PACE_GUIDE.slow) return "on the slow side; interviewers usually hear 120–160 comfortably";
  if (wordsPerMinute > PACE_GUIDE.fast) return "on the fast side; slowing a little helps the listener follow";
  return "a comfortable pace for an interview";
}

/**
 * How a dictated answer was delivered (delivery.js): pace and filler words, labelled as measured by this
 * browser from the dictation, not scored by the interviewer.
 */
export function renderDelivery(delivery) {
  const fillerList = Object.entries(delivery.byPhrase)
    .sort((a, b) => b[1] - a[1])
    .map(([phrase, count]) => `“${phrase}” ×${count}`)
    .join(", ");
  return el(
    "section",
    { class: "delivery", "aria-labelledby": "delivery-heading" },
    el("h3", { id: "delivery-heading" }, "From your dictation"),
    el(
      "p",
      { class: "muted small" },
      "Measured by your browser from what its speech recognition heard, not part of the scores.",
    ),
    el(
      "dl",
      {},
      el("dt", {}, "Speaking pace"),
      el(
        "dd",
        { class: "pace" },
        delivery.wordsPerMinute === null
          ? `Too short to time (${delivery.words} words).`
          : `${delivery.wordsPerMinute} words per minute — ${paceComment(delivery.wordsPerMinute)}.`,
      ),
      el("dt", {}, "Filler words"),
      el(
        "dd",
        { class: "fillers" },
        delivery.fillersPer100 === null
          ? "No words heard."
          : `${formatScore(delivery.fillersPer100)} per 100 words` +
              (delivery.fillers ? ` (${fillerList})` : "") +
              (delivery.fillersPer100 > FILLERS_GUIDE ? " — try a short pause instead." : "."),
      ),
    ),
  );
}
