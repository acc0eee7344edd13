// The candidate's finished interviews, kept in this browser only (never on a server account), for the
// "Your progress" view. Stored under a versioned key, newest last, at most MAX_INTERVIEWS of them.
//
// One entry: {id, token, finishedAt, role, roleTitle, level, kind, overall, criteria: {key: score},
//             questions: [{turn, question, score}]}
// The token is kept only so that "Delete my data" can delete the interview on the server too
// (DELETE /api/interviews/{id} needs it), and only while the server still keeps the interview: the API
// deletes an interview RETENTION_DAYS (30 by default) after it starts, so a token older than that opens
// nothing and is dropped from the entry (the scores stay). The entry, token included, goes once "Delete my
// data" has deleted it. An entry pushed out by newer ones takes its token with it, and its interview is
// then left to the server's retention.

const STORAGE_KEY = "mock-interview:history:v1";
export const MAX_INTERVIEWS = 50;
// The API's default RETENTION_DAYS (core/settings.py). An interview finishes after it starts, so this
// keeps no token past the server's retention; with a longer RETENTION_DAYS, an older interview is left
// to expire there.
const TOKEN_KEPT_DAYS = 30;
const DAY_MS = 24 * 60 * 60 * 1000;

function storage() {
  try {
    return window.localStorage;
  } catch {
    return null;
  }
}

function isEntry(entry) {
  return (
    typeof entry?.id === "string" &&
    typeof entry.finishedAt === "string" &&
    typeof entry.criteria === "object" &&
    entry.criteria !== null &&
    Array.isArray(entry.questions)
  );
}

/** The stored interviews, oldest first; [] when there are none or the store cannot be read. */
export function loadHistory() {
  let interviews;
  try {
    const saved = JSON.parse(storage()?.getItem(STORAGE_KEY) ?? "null");
    interviews = Array.isArray(saved?.interviews) ? saved.interviews.filter(isEntry) : [];
  } catch {
    return [];
  }
  const cutoff = Date.now() - TOKEN_KEPT_DAYS * DAY_MS;
  const expired = interviews.filter((entry) => entry.token && Date.parse(entry.finishedAt) < cutoff);
  if (expired.length === 0) return interviews;
  const pruned = interviews.map((entry) => (expired.includes(entry) ? { ...entry, token: null } : entry));
  saveHistory(pruned);
  return pruned;
}

function saveHistory(interviews) {
  const kept = interviews.slice(-MAX_INTERVIEWS);
  try {
    if (kept.length) storage()?.setItem(STORAGE_KEY, JSON.stringify({ interviews: kept }));
    else storage()?.removeItem(STORAGE_KEY);
  } catch {
    // Full or blocked storage: the progress view is a convenience; the interview itself is unaffected.
  }
}

/**
 * The entry for a finished interview.
 * @param {{id: string, token: string}} interview
 * @param {object} state GET /interviews/{id} (for the setup)
 * @param {object} report GET /interviews/{id}/report
 * @param {string} roleTitle the role as the page shows it
 */
export function historyEntry(interview, state, report, roleTitle) {
  return {
    id: interview.id,
    token: interview.token,
    finishedAt: new Date().toISOString(),
    role: state.setup.role,
    roleTitle,
    level: state.setup.level,
    kind: state.setup.kind,
    overall: report.overall,
    criteria: { ...report.criteria },
    questions: report.answers.map(({ turn, question, overall }) => ({ turn, question, score: overall })),
  };
}

/** Keep `entry`; an interview already kept (the report shown again after a reload) is not added twice. */
export function rememberInterview(entry) {
  const interviews = loadHistory();
  if (interviews.some((kept) => kept.id === entry.id)) return;
  saveHistory([...interviews, entry]);
}

/** Forget the interviews whose ids are in `ids`. */
export function forgetInterviews(ids) {
  const gone = new Set(ids);
  saveHistory(loadHistory().filter((entry) => !gone.has(entry.id)));
}
