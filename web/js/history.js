// The candidate's finished interviews, kept in this browser only (never on a server account), for the
// "Your progress" view. Stored under a versioned key, newest last, at most MAX_INTERVIEWS of them.
//
// One entry: {id, token, finishedAt, role, roleTitle, level, kind, overall, criteria: {key: score},
//             questions: [{turn, question, score}]}
// The token is kept only so that "Delete my data" can delete the interview on the server too
// (DELETE /api/interviews/{id} needs it); the entry, token included, goes once that is done. An entry
// pushed out by newer ones takes its token with it, and its interview is then left to the server's own
// retention.

const STORAGE_KEY = "mock-interview:history:v1";
export const MAX_INTERVIEWS = 50;

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
  try {
    const saved = JSON.parse(storage()?.getItem(STORAGE_KEY) ?? "null");
    return Array.isArray(saved?.interviews) ? saved.interviews.filter(isEntry) : [];
  } catch {
    return [];
  }
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
