// The candidate's interview, remembered in this browser so a reload or a closed tab can resume it.
// The token is a secret: it lives in localStorage only, never in the URL (where it would leak into
// history, logs and Referer headers).
//
// Stored: {id, token, questionShown, draft}
//   questionShown – the last question put on screen, so a reload shows it again rather than the
//                   feedback the candidate had already moved past;
//   draft         – {turn, text}, the unsent answer, so a reload does not lose it.

const STORAGE_KEY = "mock-interview:session";

function storage() {
  // localStorage throws when the browser blocks it (some private modes); the interview still works,
  // it just cannot be resumed.
  try {
    return window.localStorage;
  } catch {
    return null;
  }
}

export function loadSession() {
  try {
    const saved = JSON.parse(storage()?.getItem(STORAGE_KEY) ?? "null");
    const valid = typeof saved?.id === "string" && typeof saved?.token === "string";
    return valid ? saved : null;
  } catch {
    return null;
  }
}

export function saveSession(session) {
  try {
    storage()?.setItem(STORAGE_KEY, JSON.stringify(session));
  } catch {
    // Full or blocked storage: resuming is a convenience, not a requirement.
  }
}

/** Merge `changes` into the stored session, if there is one. */
export function updateSession(changes) {
  const saved = loadSession();
  if (saved) saveSession({ ...saved, ...changes });
}

export function clearSession() {
  try {
    storage()?.removeItem(STORAGE_KEY);
  } catch {
    // Nothing stored, nothing to clear.
  }
}
