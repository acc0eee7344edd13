// The browser's own speech: questions read aloud (speech synthesis) and answers dictated (speech
// recognition, where the browser has one). Nothing is sent to our server: the recognition is whatever
// the browser provides, and only the text it hands back reaches the answer box.

/** The browser's speech synthesis, or null. */
function synthesis() {
  return typeof window.speechSynthesis === "object" && typeof window.SpeechSynthesisUtterance === "function"
    ? window.speechSynthesis
    : null;
}

/** The browser's speech recognition constructor (prefixed in Chromium and Safari), or null. */
function recognitionClass() {
  return window.SpeechRecognition ?? window.webkitSpeechRecognition ?? null;
}

export const canSpeak = () => synthesis() !== null;
export const canDictate = () => recognitionClass() !== null;

/** Read `text` aloud, cutting off whatever was being read. */
export function speak(text) {
  const speech = synthesis();
  if (!speech) return;
  speech.cancel();
  const utterance = new window.SpeechSynthesisUtterance(text);
  utterance.lang = document.documentElement.lang || "en";
  speech.speak(utterance);
}

export function stopSpeaking() {
  synthesis()?.cancel();
}

// Recognition errors that mean dictation cannot work here at all (not just this once).
const UNAVAILABLE = new Set(["not-allowed", "service-not-allowed", "audio-capture", "network", "language-not-supported"]);

/**
 * One answer's dictation. Text heard is put into the answer box as it comes: interim words at the end
 * (replaced as the recognition revises them), final words kept. The box stays editable throughout:
 * the interim tail is replaced only while the candidate has not edited it.
 *
 * Callbacks: onText() after the box changed; onState({listening, interim, error}) when the state or the
 * interim text changes (error is "unavailable", "no-speech" or another recognition error code).
 */
export class Dictation {
  constructor(box, { onText, onState }) {
    this.box = box;
    this.onText = onText;
    this.onState = onState;
    this.recognition = null;
    this.session = null;
    this.interim = "";
    this.reset();
  }

  /** Forget what was heard (a new question). */
  reset() {
    this.stop();
    this.heard = [];
    this.spokenMs = 0;
  }

  get listening() {
    return this.recognition !== null;
  }

  /** Everything heard for this answer, and the time from first result to last (summed over sessions). */
  get transcript() {
    return this.heard.join(" ").trim();
  }

  start() {
    const Recognition = recognitionClass();
    if (!Recognition || this.recognition) return;
    const recognition = new Recognition();
    recognition.continuous = true;
    recognition.interimResults = true;
    recognition.lang = document.documentElement.lang || "en";
    // Results of this session: how many are final and in the box, and when the first and last came.
    const session = { committed: 0, firstAt: null, lastAt: null };
    this.session = session;
    recognition.addEventListener("result", (event) => this.#onResult(event, session));
    recognition.addEventListener("error", (event) => {
      const error = UNAVAILABLE.has(event.error) ? "unavailable" : event.error;
      this.#finish(recognition, session, error);
    });
    recognition.addEventListener("end", () => this.#finish(recognition, session, null));
    this.recognition = recognition;
    this.interim = "";
    try {
      recognition.start();
    } catch {
      this.#finish(recognition, session, "unavailable");
      return;
    }
    this.onState({ listening: true, interim: "", error: null });
  }

  stop() {
    const recognition = this.recognition;
    if (!recognition) return;
    // Words still interim when the candidate stops stay in the box as they are, and count as heard;
    // the session is timed now, as the answer may be sent before the recognition reports its end.
    if (this.interim) this.heard.push(this.interim);
    this.interim = "";
    this.recognition = null;
    this.#time(this.session);
    recognition.stop();
    this.onState({ listening: false, interim: "", error: null });
  }

  /** Add a session's first-to-last-result time to the answer's, once. */
  #time(session) {
    if (session?.firstAt !== null && session?.firstAt !== undefined) this.spokenMs += session.lastAt - session.firstAt;
    if (session) session.firstAt = session.lastAt = null;
  }

  #onResult(event, session) {
    if (this.recognition !== event.target) return;
    session.firstAt ??= event.timeStamp;
    session.lastAt = event.timeStamp;
    let finals = "";
    let interim = "";
    for (let index = event.resultIndex; index < event.results.length; index += 1) {
      const result = event.results[index];
      const text = result[0]?.transcript ?? "";
      if (result.isFinal && index >= session.committed) {
        finals = join(finals, text);
        this.heard.push(text.trim());
        session.committed = index + 1;
      } else if (!result.isFinal) {
        interim = join(interim, text);
      }
    }
    this.#write(finals, interim);
    this.onState({ listening: true, interim: interim.trim(), error: null });
  }

  /** Put the new final words and the interim tail at the end of the box, keeping the candidate's edits. */
  #write(finals, interim) {
    let text = this.box.value;
    // The interim tail written last time, if the candidate left it alone, is replaced by what came now.
    if (this.interim && text.endsWith(this.interim)) text = text.slice(0, -this.interim.length).trimEnd();
    text = join(join(text, finals), interim);
    this.interim = interim.trim() ? interim.trim() : "";
    if (text !== this.box.value) {
      this.box.value = text;
      this.onText();
    }
  }

  #finish(recognition, session, error) {
    if (this.recognition !== recognition) {
      if (error) this.onState({ listening: false, interim: "", error });
      return;
    }
    this.#time(session);
    this.recognition = null;
    if (this.interim) this.heard.push(this.interim);
    this.interim = "";
    this.onState({ listening: false, interim: "", error });
  }
}

/** "a" + "b" with one space between, none when either is empty. */
function join(left, right) {
  const a = left.trimEnd();
  const b = right.trim();
  if (!a) return b;
  if (!b) return a;
  return `${a} ${b}`;
}

// Whether the candidate last chose voice mode, remembered in this browser for the next question or visit.
const PREFERENCE_KEY = "mock-interview:voice-mode";

export function loadVoicePreference() {
  try {
    return window.localStorage.getItem(PREFERENCE_KEY) === "on";
  } catch {
    return false;
  }
}

export function saveVoicePreference(on) {
  try {
    if (on) window.localStorage.setItem(PREFERENCE_KEY, "on");
    else window.localStorage.removeItem(PREFERENCE_KEY);
  } catch {
    // Blocked storage: the choice lasts for this page only.
  }
}
