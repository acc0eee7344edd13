// Stand-ins for the browser's speech APIs, injected before the page's scripts by the voice-mode tests
// (page.add_init_script). Speech synthesis records what it was asked to say; speech recognition hands out
// the results a test scripts, with the timestamps it gives, as Chromium's continuous recognition does:
// final results stay in the list, the interim one (if any) is last, and resultIndex is the first that
// changed. window.__speech is the tests' handle on both.
(() => {
  const speech = { spoken: [], cancelled: 0, recognitions: [] };
  window.__speech = speech;

  class Utterance {
    constructor(text) {
      this.text = text;
      this.lang = "";
    }
  }
  const synthesis = {
    speaking: false,
    pending: false,
    paused: false,
    speak(utterance) {
      speech.spoken.push(utterance.text);
    },
    cancel() {
      speech.cancelled += 1;
    },
    pause() {},
    resume() {},
    getVoices: () => [],
    addEventListener() {},
    removeEventListener() {},
  };
  Object.defineProperty(window, "speechSynthesis", { value: synthesis, configurable: true });
  Object.defineProperty(window, "SpeechSynthesisUtterance", { value: Utterance, configurable: true, writable: true });

  class Recognition extends EventTarget {
    constructor() {
      super();
      this.continuous = false;
      this.interimResults = false;
      this.lang = "";
      this.running = false;
      this.finals = [];
      speech.recognitions.push(this);
    }

    start() {
      if (this.running) throw new DOMException("recognition has already started", "InvalidStateError");
      this.running = true;
      this.dispatchEvent(new Event("start"));
    }

    stop() {
      if (!this.running) return;
      this.running = false;
      setTimeout(() => this.dispatchEvent(new Event("end")), 0);
    }

    abort() {
      this.stop();
    }

    /** Script a result: `text` heard `final`ly or not, `at` ms into the page's life (the event's timeStamp). */
    hear(text, final, at) {
      const result = (transcript, isFinal) => Object.assign([{ transcript, confidence: 0.9 }], { isFinal });
      if (final) this.finals.push(text);
      const results = this.finals.map((heard) => result(heard, true));
      if (!final) results.push(result(text, false));
      const event = new Event("result");
      Object.defineProperty(event, "timeStamp", { value: at });
      Object.assign(event, { results, resultIndex: final ? this.finals.length - 1 : this.finals.length });
      this.dispatchEvent(event);
    }

    /** Script a failure, as Chromium reports one: an error event, then the end. */
    fail(error) {
      const event = new Event("error");
      Object.assign(event, { error, message: "" });
      this.dispatchEvent(event);
      this.running = false;
      this.dispatchEvent(new Event("end"));
    }
  }
  speech.hear = (text, final, at) => speech.recognitions.at(-1).hear(text, final, at);
  speech.fail = (error) => speech.recognitions.at(-1).fail(error);
  speech.listening = () => Boolean(speech.recognitions.at(-1)?.running);

  const withRecognition = !window.__noRecognition;
  for (const name of ["SpeechRecognition", "webkitSpeechRecognition"]) {
    if (withRecognition) Object.defineProperty(window, name, { value: Recognition, configurable: true, writable: true });
    else delete window[name];
  }
})();
