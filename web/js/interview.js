// The candidate's page: set up an interview, answer question by question, read feedback and the report.
// The page moves through these views, one at a time:
//   setup → question (answering) → scoring (waiting for feedback) → feedback → question … → report.
import { callApi, deleteInterview, endpoint, pollUntilReady, serverUrl } from "./api.js";
import { deliveryOf } from "./delivery.js";
import { fill, formatNumber, show } from "./dom.js";
import { download, exportFileName, reportJson, reportMarkdown } from "./export.js";
import { criterionLabel, renderDelivery, renderFeedback, renderReport } from "./feedback.js";
import { forgetInterviews, historyEntry, loadHistory, rememberInterview } from "./history.js";
import { describeDeletion, describeError, describeRolesError } from "./messages.js";
import { renderProgress } from "./progress.js";
import { loadRoleOptions } from "./roles.js";
import { clearSession, loadSession, saveSession, updateSession } from "./session.js";
import {
  canDictate,
  canSpeak,
  Dictation,
  loadVoicePreference,
  saveVoicePreference,
  speak,
  stopSpeaking,
} from "./voice.js";

// The API's limit on an answer: 8 KB of UTF-8 (core/models.py MAX_ANSWER_BYTES).
const MAX_ANSWER_BYTES = 8 * 1024;
// The API's limit on a job ad: 8 KB of UTF-8 (core/models.py MAX_JOB_DESCRIPTION_BYTES).
const MAX_JOB_AD_BYTES = 8 * 1024;
// A custom role's job title, trimmed (core/models.py InterviewSetup.custom_role).
const CUSTOM_ROLE_MIN = 3;
// What the API refuses in any text (core/models.py _NOT_ALLOWED): C0 controls but tab and newline.
const CONTROL_CHARACTERS = /[\x00-\x08\x0b-\x1f]/g;
const utf8 = new TextEncoder();

const byId = (id) => document.getElementById(id);
const ui = {
  announcer: byId("announcer"),
  error: byId("error"),
  errorMessage: byId("error-message"),
  errorAction: byId("error-action"),
  loading: byId("loading"),
  startOver: byId("start-over"),
  setup: byId("setup"),
  setupForm: byId("setup-form"),
  role: byId("role"),
  customRoleField: byId("custom-role-field"),
  customRole: byId("custom-role"),
  jobAd: byId("job-ad"),
  jobAdCounter: byId("job-ad-counter"),
  start: byId("start"),
  interview: byId("interview"),
  greeting: byId("greeting"),
  adSkills: byId("ad-skills"),
  questionNumber: byId("question-number"),
  questionKind: byId("question-kind"),
  questionText: byId("question-text"),
  answerForm: byId("answer-form"),
  answer: byId("answer"),
  counter: byId("answer-counter"),
  submit: byId("submit-answer"),
  givenAnswer: byId("given-answer"),
  givenAnswerText: byId("given-answer-text"),
  progress: byId("progress"),
  progressText: byId("progress-text"),
  feedback: byId("feedback"),
  next: byId("next"),
  transition: byId("transition"),
  nextQuestion: byId("next-question"),
  closing: byId("closing"),
  followUp: byId("follow-up"),
  followUpText: byId("follow-up-text"),
  followUpReason: byId("follow-up-reason"),
  followUpGiven: byId("follow-up-given"),
  followUpForm: byId("follow-up-form"),
  followUpAnswer: byId("follow-up-answer"),
  submitFollowUp: byId("submit-follow-up"),
  skipFollowUp: byId("skip-follow-up"),
  report: byId("report"),
  reportBody: byId("report-body"),
  printReport: byId("print-report"),
  downloadMarkdown: byId("download-markdown"),
  downloadJson: byId("download-json"),
  reportHistory: byId("report-history"),
  newInterview: byId("new-interview"),
  voiceMode: byId("voice-mode"),
  readQuestion: byId("read-question"),
  voiceNotice: byId("voice-notice"),
  dictation: byId("dictation"),
  dictate: byId("dictate"),
  dictationStatus: byId("dictation-status"),
  showHistory: byId("show-history"),
  history: byId("history"),
  historyBody: byId("history-body"),
  closeHistory: byId("close-history"),
  deleteData: byId("delete-data"),
  deleteStatus: byId("delete-status"),
};

const KIND_LABELS = { behavioral: "Behavioral question", technical: "Technical question" };

// The interview on screen: {id, token, total}; null on the setup view.
let interview = null;
// The question being answered: {turn, of, text, kind}.
let question = null;
// The result whose "Next question" button is showing.
let shownResult = null;
let busy = false;
// Filling the role list from the question bank (a promise); null until it starts and after it fails.
let rolesLoading = null;
// The report on screen, for the downloads: {report, state, roleTitle, date}.
let shownReport = null;
// The views hidden while "Your progress" is open, shown again by "Back".
let hiddenByHistory = [];

// --- small helpers -----------------------------------------------------------------------------

function announce(text) {
  // Cleared first so the same words said twice are still read out.
  ui.announcer.textContent = "";
  requestAnimationFrame(() => {
    ui.announcer.textContent = text;
  });
}

function showProgress(text) {
  ui.progressText.textContent = text;
  show(ui.progress, Boolean(text));
}

function hideError() {
  show(ui.error, false);
}

/**
 * Say what went wrong (`message`, from messages.js) and offer the way forward that `action` names:
 * try again (with `retry`), reload the interview where it really is, or start anew.
 */
function showError({ message, action }, retry) {
  const actions = {
    retry: ["Try again", retry],
    resume: ["Show where the interview is", () => attempt(resume)],
    new: ["Start a new interview", startOver],
  };
  ui.errorMessage.textContent = message;
  show(ui.errorAction, Boolean(action));
  if (action) {
    const [label, handler] = actions[action];
    ui.errorAction.textContent = label;
    ui.errorAction.onclick = handler;
  }
  show(ui.error, true);
  ui.error.scrollIntoView({ block: "nearest" });
}

/**
 * Run one step of the flow; if it fails, say what went wrong in the candidate's words and offer the
 * way forward: try the same step again, reload the interview where it really is, or start anew.
 */
async function attempt(step) {
  hideError();
  try {
    await step();
  } catch (error) {
    showProgress("");
    show(ui.loading, false);
    // A setup the API refused (422) is the candidate's to fix, in the API's own words.
    const { message, action } = error.showApiMessage
      ? { message: error.message, action: null }
      : describeError(error);
    // A step that got past its point of no return (an answer stored) says how to carry on instead.
    showError({ message, action }, () => attempt(error.retryWith ?? step));
    if (action === "new") {
      // The interview cannot be reached with what this browser holds, so keeping it only brings
      // the same error back on the next visit.
      clearSession();
      interview = null;
    }
  }
}

function setBusy(value) {
  busy = value;
  // The answer being sent stays as it was sent.
  ui.answer.readOnly = value;
  ui.start.disabled = value;
  ui.nextQuestion.disabled = value;
  ui.dictate.disabled = value;
  ui.followUpAnswer.readOnly = value;
  ui.submitFollowUp.disabled = value;
  ui.skipFollowUp.disabled = value;
  updateCounter();
}

// --- views -------------------------------------------------------------------------------------

function showSetup() {
  interview = question = shownResult = shownReport = null;
  dictation.reset();
  stopSpeaking();
  hiddenByHistory = [];
  show(ui.history, false);
  show(ui.showHistory, true);
  loadRoles();
  show(ui.loading, false);
  show(ui.interview, false);
  show(ui.report, false);
  show(ui.startOver, false);
  show(ui.setup, true);
  document.title = "Mock interview";
}

function enterInterview(id, token, total, greeting, jobAd) {
  interview = { id, token, total };
  ui.greeting.textContent = greeting;
  showAdSkills(jobAd);
  show(ui.loading, false);
  show(ui.setup, false);
  show(ui.interview, true);
  show(ui.startOver, true);
}

/** With a job ad (the API's job_ad: {role, level, skills}): the skills the questions were chosen for. */
function showAdSkills(jobAd) {
  show(ui.adSkills, Boolean(jobAd));
  if (!jobAd) return;
  ui.adSkills.textContent = jobAd.skills.length
    ? `Questions chosen for this ad's skills: ${jobAd.skills.join(", ")}.`
    : "No skills we know of were found in this ad, so the questions are for the role and level alone.";
}

/** The question card, with or without its kind (a resumed transcript does not carry it). */
function showQuestionCard(turn, text, kind) {
  ui.questionNumber.textContent = `Question ${turn} of ${interview.total}`;
  ui.questionText.textContent = text;
  ui.questionKind.textContent = KIND_LABELS[kind] ?? "";
  show(ui.questionKind, Boolean(KIND_LABELS[kind]));
  document.title = `Question ${turn} of ${interview.total} · Mock interview`;
}

/** The answering view of `next`: the question and an empty (or drafted) answer box. */
function showQuestion(next) {
  question = next;
  shownResult = null;
  showQuestionCard(next.turn, next.text, next.kind);
  const draft = loadSession()?.draft;
  ui.answer.value = draft?.turn === next.turn ? draft.text : "";
  updateSession({ questionShown: next.turn });
  for (const part of [ui.givenAnswer, ui.feedback, ui.followUp, ui.next, ui.closing, ui.report]) show(part, false);
  showProgress("");
  show(ui.answerForm, true);
  dictation.reset();
  syncVoice();
  updateCounter();
  ui.answer.focus();
  announce(`Question ${next.turn} of ${interview.total}. ${next.text}`);
  if (ui.voiceMode.checked) speak(next.text);
}

/** The question with the answer as sent, while its feedback is awaited or shown. */
function showAnswered(turn, questionText, answerText, kind) {
  showQuestionCard(turn, questionText, kind);
  ui.givenAnswerText.textContent = answerText;
  show(ui.answerForm, false);
  show(ui.givenAnswer, true);
  syncVoice();
}

function showScoring() {
  showProgress("Scoring your answer… this usually takes a few seconds.");
  announce("Your answer was sent. Scoring it now.");
}

/** A finished turn: its feedback, then the way on (next question, or the closing and the report). */
/** A provisional score (the built-in evaluator's) replaced by the model's when it arrives (long-poll). */
async function replaceWhenFinal(result) {
  const url = endpoint(`/interviews/${interview.id}/turns/${result.turn}`);
  try {
    for (let polls = 0; polls < 3; polls += 1) {
      const final = await pollUntilReady(url, { token: interview.token });
      if (shownResult?.turn !== result.turn) return; // the candidate has moved on
      if (!final.provisional) {
        shownResult = final;
        fill(ui.feedback, renderFeedback(final));
        announce(`Final feedback on question ${final.turn}: ${final.feedback.overall} out of 5 overall.`);
        return;
      }
    }
  } catch {
    // The provisional feedback stays: it is a score in its own right.
  }
}

async function showResult(result) {
  shownResult = result;
  showProgress("");
  // How a dictated answer was delivered, measured in this browser when it was sent.
  const delivery = loadSession()?.delivery;
  fill(ui.feedback, renderFeedback(result), delivery?.turn === result.turn && renderDelivery(delivery));
  show(ui.feedback, true);
  byId("feedback-heading").focus();
  announce(`Feedback on question ${result.turn}: ${result.feedback.overall} out of 5 overall.`);
  if (result.provisional) replaceWhenFinal(result);
  showFollowUp(result);
  if (result.follow_up_status === "open") {
    byId("follow-up-heading").focus();
    announce(`A follow-up question: ${result.follow_up.text}`);
    return;
  }
  if (result.next_question) {
    ui.transition.textContent = result.transition ?? "";
    show(ui.next, true);
    return;
  }
  ui.closing.textContent = result.closing ?? "";
  show(ui.closing, true);
  await showReport(
    result.report_url ? serverUrl(result.report_url) : endpoint(`/interviews/${interview.id}/report`),
  );
}

/** The turn's follow-up, if one was asked: its form while open, else what was answered (or the skip). */
function showFollowUp(result) {
  show(ui.followUp, Boolean(result.follow_up));
  if (!result.follow_up) return;
  const open = result.follow_up_status === "open";
  ui.followUpText.textContent = result.follow_up.text;
  ui.followUpReason.textContent = result.follow_up.reason;
  ui.followUpGiven.textContent =
    result.follow_up_status === "skipped" ? "You skipped this follow-up." : (result.follow_up_answer ?? "");
  show(ui.followUpGiven, !open);
  show(ui.followUpForm, open);
  if (open) ui.followUpAnswer.value = "";
}

async function showReport(reportUrl) {
  showProgress("Writing your report…");
  const auth = { token: interview.token };
  const report = await pollUntilReady(reportUrl, auth);
  // The setup and the transcript, for the progress kept in this browser and for the downloads.
  const { data: state } = await callApi("GET", endpoint(`/interviews/${interview.id}`), auth);
  showProgress("");
  const roleTitle = roleTitleOf(state.setup);
  shownReport = { report, state, roleTitle, date: new Date() };
  rememberInterview(historyEntry(interview, state, report, roleTitle));
  fill(ui.reportBody, renderReport(report));
  show(ui.report, true);
  document.title = "Your report · Mock interview";
  announce(`Your report is ready: ${report.overall} out of 5 overall.`);
  // Only take focus from the candidate if they are not reading the last answer's feedback.
  if (!ui.feedback.contains(document.activeElement)) byId("report-heading").focus();
}

/** The role as the setup form titles it ("Backend engineer"), or the job title of a custom role. */
function roleTitleOf(setup) {
  if (setup.custom_role) return setup.custom_role;
  const option = [...ui.role.options].find((candidate) => candidate.value === setup.role);
  return option?.textContent ?? criterionLabel(setup.role);
}

function downloadReport(format) {
  if (!shownReport) return;
  const { report, state, roleTitle, date } = shownReport;
  if (format === "markdown") {
    const text = reportMarkdown(report, state, { roleTitle, date });
    download(exportFileName(state, date, "md"), "text/markdown;charset=utf-8", text);
  } else {
    download(exportFileName(state, date, "json"), "application/json", reportJson(report, state, { date }));
  }
  announce(`Your report was downloaded as ${format === "markdown" ? "Markdown" : "JSON"}.`);
}

// --- voice mode ----------------------------------------------------------------------------------

const dictation = new Dictation(ui.answer, {
  onText() {
    updateCounter();
    updateSession({ draft: { turn: question?.turn, text: ui.answer.value } });
  },
  onState({ listening, interim, error }) {
    ui.dictate.textContent = listening ? "Stop dictation" : "Start dictation";
    ui.dictate.setAttribute("aria-pressed", String(listening));
    if (error === "unavailable") {
      dictationUnavailable = true;
      syncVoice();
    }
    ui.dictationStatus.textContent = dictationStatus(listening, interim, error);
  },
});
// Set when the recognition said it cannot work here (microphone refused, no service).
let dictationUnavailable = false;

function dictationStatus(listening, interim, error) {
  if (listening) return interim ? `Hearing: ${interim}` : "Listening… speak your answer.";
  if (error === "no-speech") return "No speech was heard. Press “Start dictation” to try again.";
  if (error && error !== "unavailable" && error !== "aborted") return "Dictation stopped. You can start it again, or type.";
  return "";
}

/** Show the voice controls that fit: voice mode on or off, and what this browser can do. */
function syncVoice() {
  const on = ui.voiceMode.checked;
  const dictating = on && canDictate() && !dictationUnavailable;
  const answering = !ui.answerForm.hidden;
  show(ui.dictation, dictating && answering);
  show(ui.readQuestion, on && canSpeak() && answering);
  const missing = [];
  if (on && !canSpeak()) missing.push("read questions aloud");
  if (on && (!canDictate() || dictationUnavailable)) missing.push("take dictation");
  ui.voiceNotice.textContent = missing.length
    ? `Voice mode is only partly available: this browser can't ${missing.join(" or ")}` +
      `${dictating ? "" : ", so type your answer as usual"}.` +
      (dictationUnavailable ? " (The microphone may be blocked, or the browser's speech service unreachable.)" : "")
    : "";
  show(ui.voiceNotice, missing.length > 0);
  if (!dictating || !answering) dictation.stop();
}

function setVoiceMode(on) {
  saveVoicePreference(on);
  syncVoice();
  if (!on) {
    stopSpeaking();
    return;
  }
  if (question && !ui.answerForm.hidden) speak(question.text);
}

/** What the dictation heard for the answer about to be sent: its delivery, kept for its feedback. */
function recordDelivery(turn) {
  dictation.stop();
  stopSpeaking();
  const transcript = dictation.transcript;
  updateSession({ delivery: transcript ? { turn, ...deliveryOf(transcript, dictation.spokenMs) } : null });
}

// --- your progress -------------------------------------------------------------------------------

const MAIN_VIEWS = () => [ui.setup, ui.interview, ui.report, ui.loading, ui.error];

function openHistory() {
  if (ui.history.hidden) {
    hiddenByHistory = MAIN_VIEWS().filter((view) => !view.hidden);
    for (const view of hiddenByHistory) show(view, false);
  }
  dictation.stop();
  ui.deleteStatus.textContent = "";
  renderHistory();
  show(ui.history, true);
  show(ui.showHistory, false);
  document.title = "Your progress · Mock interview";
  byId("history-heading").focus();
}

function renderHistory() {
  const history = loadHistory();
  fill(ui.historyBody, renderProgress(history));
  ui.deleteData.disabled = history.length === 0 && loadSession() === null;
}

function closeHistory() {
  show(ui.history, false);
  show(ui.showHistory, true);
  if (interview === null && ui.report.hidden) {
    hiddenByHistory = [];
    showSetup();
    ui.role.focus();
    return;
  }
  for (const view of hiddenByHistory) show(view, true);
  hiddenByHistory = [];
  document.title = !ui.report.hidden
    ? "Your report · Mock interview"
    : question
      ? `Question ${question.turn} of ${interview.total} · Mock interview`
      : "Mock interview";
  (ui.report.hidden ? ui.questionNumber : byId("report-heading")).focus();
}

/**
 * "Delete my data": every interview this browser knows of (the finished ones kept for progress, and the
 * one in progress) is deleted on the server, then forgotten here. One the server could not delete is kept,
 * token and all, so the candidate can try again.
 */
async function deleteMyData() {
  const session = loadSession();
  const targets = new Map(loadHistory().map((entry) => [entry.id, entry.token]));
  if (session) targets.set(session.id, session.token);
  if (targets.size === 0) return;
  const confirmation =
    `Delete your ${targets.size} interview${targets.size === 1 ? "" : "s"} from this browser and from the ` +
    "server? Answers, feedback and reports go too, and this can't be undone.";
  if (!window.confirm(confirmation)) return;
  ui.deleteData.disabled = true;
  ui.deleteStatus.textContent = "Deleting your data…";
  const deleted = [];
  const failures = [];
  for (const [id, token] of targets) {
    try {
      if (token) await deleteInterview(id, token);
      deleted.push(id);
    } catch (error) {
      // Already gone on the server (deleted elsewhere, or expired): nothing is left to delete there.
      if (error.status === 404 && error.code === "not_found") deleted.push(id);
      else failures.push(error);
    }
  }
  forgetInterviews(deleted);
  if (session && deleted.includes(session.id)) {
    clearSession();
    interview = question = shownResult = shownReport = null;
    hiddenByHistory = [];
    for (const view of MAIN_VIEWS()) show(view, false);
    show(ui.startOver, false);
  }
  renderHistory();
  ui.deleteStatus.textContent = describeDeletion(deleted.length, failures);
}

// --- the roles -----------------------------------------------------------------------------------

/**
 * Fill the role list from the question bank, once: at page load, and again when the setup form comes up
 * if that failed. A failure is shown only with the setup form, the one place the roles are needed.
 */
function loadRoles() {
  rolesLoading ??= loadRoleOptions(ui.role).then(syncCustomRole, (error) => {
    rolesLoading = null;
    if (ui.setup.hidden) return;
    showError(describeRolesError(error), () => {
      hideError();
      loadRoles();
    });
  });
}

// --- the custom role -----------------------------------------------------------------------------

/** Show the job title field only with "Another role…"; hidden, it is disabled: not required, not sent. */
function syncCustomRole() {
  const custom = ui.role.value === "custom";
  show(ui.customRoleField, custom);
  ui.customRole.disabled = !custom;
  ui.customRole.required = custom;
  if (!custom) ui.customRole.removeAttribute("aria-invalid");
  checkCustomRole();
}

/** Spaces around the title do not count towards its 3 characters (the API trims them). */
function checkCustomRole() {
  const length = ui.customRole.value.trim().length;
  ui.customRole.setCustomValidity(
    !ui.customRole.disabled && length > 0 && length < CUSTOM_ROLE_MIN
      ? `Enter a job title of at least ${CUSTOM_ROLE_MIN} characters.`
      : "",
  );
}

// --- the counters --------------------------------------------------------------------------------

/** "12 characters · 12 of 8,192 bytes", with how far over `limit` bytes `text` is; and whether it is. */
function countText(text, limit) {
  const bytes = utf8.encode(text).length;
  const over = bytes > limit;
  const description =
    `${formatNumber([...text].length)} characters · ${formatNumber(bytes)} of ${formatNumber(limit)} bytes` +
    (over ? ` — ${formatNumber(bytes - limit)} bytes over the limit` : "");
  return { description, over };
}

let jobAdWasOverLimit = false;

/** The job ad's counter, shown once something is pasted; over 8 KB the browser holds the form back. */
function updateJobAdCounter() {
  const text = ui.jobAd.value;
  const { description, over } = countText(text, MAX_JOB_AD_BYTES);
  ui.jobAdCounter.textContent = text ? description : `Up to ${formatNumber(MAX_JOB_AD_BYTES)} bytes.`;
  ui.jobAdCounter.classList.toggle("over", over);
  ui.jobAd.setAttribute("aria-invalid", String(over));
  ui.jobAd.setCustomValidity(over ? "Shorten the job ad to 8 KB or less, or leave it empty." : "");
  if (over && !jobAdWasOverLimit) announce("The job ad is over the 8 KB limit. Shorten it to start.");
  jobAdWasOverLimit = over;
}

let wasOverLimit = false;

function updateCounter() {
  const text = ui.answer.value;
  const { description, over } = countText(text, MAX_ANSWER_BYTES);
  ui.counter.textContent = description;
  ui.counter.classList.toggle("over", over);
  ui.answer.setAttribute("aria-invalid", String(over));
  ui.submit.disabled = busy || !text.trim() || over;
  if (over && !wasOverLimit) announce("Your answer is over the 8 KB limit. Shorten it to submit.");
  wasOverLimit = over;
}

// --- steps ----------------------------------------------------------------------------------------

async function startInterview() {
  const form = new FormData(ui.setupForm);
  const setup = {
    role: form.get("role"),
    level: form.get("level"),
    kind: form.get("kind"),
    questions: Number(form.get("questions")),
  };
  if (setup.role === "custom") setup.custom_role = String(form.get("custom_role") ?? "").trim();
  setup.follow_ups = form.get("follow_ups") === "on";
  const name = String(form.get("candidate_name") ?? "").trim();
  if (name) setup.candidate_name = name;
  // The box's own value (its line breaks are "\n", where a form's entry may carry "\r\n", which the API
  // refuses), with control characters a copied PDF may carry (form feeds) made spaces; role and level
  // stay the form's.
  const jobAd = ui.jobAd.value.replace(CONTROL_CHARACTERS, " ");
  if (jobAd.trim()) setup.job_description = jobAd;

  setBusy(true);
  try {
    let data;
    try {
      ({ data } = await callApi("POST", endpoint("/interviews"), { body: setup }));
    } catch (error) {
      if (error.status === 422) {
        error.showApiMessage = true;
        error.message = `The interview couldn't be set up: ${error.message}`;
        if (setup.job_description && error.message.includes("job_description")) {
          ui.jobAd.setAttribute("aria-invalid", "true");
          ui.jobAd.focus();
        } else if (setup.role === "custom") {
          ui.customRole.setAttribute("aria-invalid", "true");
          ui.customRole.focus();
        }
      }
      throw error;
    }
    ui.customRole.removeAttribute("aria-invalid");
    saveSession({ id: data.id, token: data.token, questionShown: 1 });
    enterInterview(data.id, data.token, data.question.of, data.greeting, data.job_ad);
    showQuestion(data.question);
  } finally {
    setBusy(false);
  }
}

async function submitAnswer() {
  recordDelivery(question.turn);
  const answer = ui.answer.value;
  const turn = question.turn;
  setBusy(true);
  try {
    const { status, data } = await callApi("POST", endpoint(`/interviews/${interview.id}/turns`), {
      token: interview.token,
      body: { turn, answer },
      // Storage out of reach (503): the answer stays in the box, and is sent again after a pause.
      onRetry: (seconds) =>
        showProgress(
          `The service is briefly unavailable. Your answer is kept; sending it again in ${seconds} s…`,
        ),
    });
    showProgress("");
    updateSession({ draft: null });
    showAnswered(turn, question.text, answer, question.kind);
    await showSentTurn(status, data);
  } finally {
    setBusy(false);
  }
}

/** Answer (`{answer, follow_up: true}`) or skip (`{skip_follow_up: true}`) the shown turn's follow-up. */
async function sendFollowUp(body) {
  const turn = shownResult.turn;
  setBusy(true);
  try {
    const { status, data } = await callApi("POST", endpoint(`/interviews/${interview.id}/turns`), {
      token: interview.token,
      body: { turn, ...body },
    });
    await showSentTurn(status, data);
  } finally {
    setBusy(false);
  }
}

/** A sent turn's result: at once (200), or once its feedback is ready (202). */
async function showSentTurn(status, data) {
  try {
    if (status === 202) {
      showScoring();
      await showResult(await pollUntilReady(serverUrl(data.poll_url), { token: interview.token }));
    } else {
      await showResult(data);
    }
  } catch (error) {
    // The answer is stored: trying again means waiting for its result, not sending it twice.
    error.retryWith = resume;
    throw error;
  }
}

/** Pick up the stored interview where it is on the server. */
async function resume() {
  const saved = loadSession();
  if (!saved) {
    showSetup();
    return;
  }
  show(ui.setup, false);
  show(ui.loading, true);
  // Offered from the start, so a candidate is never stuck if the interview cannot be loaded.
  show(ui.startOver, true);
  const auth = { token: saved.token };
  const { data: state } = await callApi("GET", endpoint(`/interviews/${saved.id}`), auth);
  enterInterview(state.id, saved.token, state.transcript.length, state.greeting, state.job_ad);

  const answered = state.transcript.filter((entry) => entry.status !== "unanswered");
  const last = answered.at(-1);
  const current = state.current_question;
  if (!last || (current && (saved.questionShown ?? 0) >= current.turn)) {
    showQuestion(current);
    return;
  }
  // The last answered question: its feedback (or the wait for it), then the next step as before.
  showAnswered(last.turn, last.question, last.answer);
  for (const part of [ui.feedback, ui.followUp, ui.next, ui.closing, ui.report]) show(part, false);
  if (last.status === "pending") showScoring();
  const turnUrl = endpoint(`/interviews/${state.id}/turns/${last.turn}`);
  await showResult(await pollUntilReady(turnUrl, auth));
}

function startOver() {
  const unfinished = interview !== null && ui.report.hidden;
  if (unfinished && !window.confirm("Leave this interview and start a new one? You can't come back to it."))
    return;
  clearSession();
  hideError();
  showSetup();
  ui.setupForm.reset();
  syncCustomRole();
  updateJobAdCounter();
  ui.role.focus();
}

// --- wiring --------------------------------------------------------------------------------------

ui.setupForm.addEventListener("submit", (event) => {
  event.preventDefault();
  if (!ui.setupForm.reportValidity() || busy) return;
  attempt(startInterview);
});

// The title field appears right after the list, so Tab reaches it next; focus is not moved for the candidate.
ui.role.addEventListener("change", syncCustomRole);

ui.customRole.addEventListener("input", () => {
  ui.customRole.removeAttribute("aria-invalid");
  checkCustomRole();
});

ui.jobAd.addEventListener("input", updateJobAdCounter);

ui.answer.addEventListener("input", () => {
  updateCounter();
  updateSession({ draft: { turn: question?.turn, text: ui.answer.value } });
});

ui.answer.addEventListener("keydown", (event) => {
  if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
    event.preventDefault();
    ui.answerForm.requestSubmit();
  }
});

ui.answerForm.addEventListener("submit", (event) => {
  event.preventDefault();
  if (ui.submit.disabled) return;
  attempt(submitAnswer);
});

ui.nextQuestion.addEventListener("click", () => {
  hideError();
  showQuestion(shownResult.next_question);
});

ui.followUpForm.addEventListener("submit", (event) => {
  event.preventDefault();
  const answer = ui.followUpAnswer.value;
  if (busy || !answer.trim()) return;
  attempt(() => sendFollowUp({ answer, follow_up: true }));
});

ui.skipFollowUp.addEventListener("click", () => {
  if (!busy) attempt(() => sendFollowUp({ skip_follow_up: true }));
});

ui.startOver.addEventListener("click", startOver);
ui.newInterview.addEventListener("click", startOver);
ui.printReport.addEventListener("click", () => window.print());
ui.downloadMarkdown.addEventListener("click", () => downloadReport("markdown"));
ui.downloadJson.addEventListener("click", () => downloadReport("json"));

ui.voiceMode.addEventListener("change", () => setVoiceMode(ui.voiceMode.checked));
ui.readQuestion.addEventListener("click", () => question && speak(question.text));
ui.dictate.addEventListener("click", () => {
  if (dictation.listening) dictation.stop();
  else dictation.start();
  ui.answer.focus();
});

ui.showHistory.addEventListener("click", openHistory);
ui.reportHistory.addEventListener("click", openHistory);
ui.closeHistory.addEventListener("click", closeHistory);
ui.deleteData.addEventListener("click", deleteMyData);
ui.voiceMode.checked = loadVoicePreference();

// A form restored by the browser (back button, reload) may come back with "Another role…" chosen.
window.addEventListener("pageshow", () => {
  syncCustomRole();
  updateJobAdCounter();
});
syncCustomRole();
updateJobAdCounter();
loadRoles();
attempt(resume);
