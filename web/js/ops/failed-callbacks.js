// The failed callbacks panel: the events no receiver took after every retry (the queue
// interview-callbacks-failed), and replaying them, each with its retries again.
import { el, fill, formatNumber } from "../dom.js";
import { opsCall } from "./ops-key.js";
import { formatWhen } from "./format.js";
import { cell, numberCell, table } from "./table.js";

// An interview id is 32 hex digits: its first 8 tell the rows apart; the whole id is in the cell's title.
const SHORT_ID_LENGTH = 8;

const byId = (id) => document.getElementById(id);
const ui = {
  count: byId("callbacks-failed-count"),
  replay: byId("callbacks-replay"),
  replayResult: byId("callbacks-replay-result"),
  list: byId("callbacks-failed"),
};

/** "3 events", "1 event". */
function events(count) {
  return `${formatNumber(count)} event${count === 1 ? "" : "s"}`;
}

function shortId(id) {
  return id.length > SHORT_ID_LENGTH ? `${id.slice(0, SHORT_ID_LENGTH)}…` : id;
}

/** "turn.ready (turn 2)", "report.ready". */
function eventInWords(event) {
  return event.turn ? `${event.type} (turn ${formatNumber(event.turn)})` : event.type;
}

function row(failed) {
  const { event } = failed;
  return el(
    "tr",
    { "data-event": failed.event_id },
    cell(el("code", { title: event.interview_id }, shortId(event.interview_id))),
    cell(eventInWords(event)),
    numberCell(formatNumber(event.sequence)),
    numberCell(formatNumber(event.attempts)),
    cell(event.last_error ?? "—", { class: "last-error" }),
    cell(failed.failed_on ? formatWhen(failed.failed_on) : "—"),
  );
}

const HEADINGS = [
  ["Interview"],
  ["Event"],
  ["Sequence", true],
  ["Attempts", true],
  ["Last error"],
  ["Failed at"],
];

/** `failed` is the answer of GET /ops/callbacks/failed: {waiting, callbacks (the oldest, up to 32)}. */
export function renderFailedCallbacks(failed) {
  const shown = failed.callbacks.length;
  // The queue's count is approximate; it is never fewer than the events just read.
  const waiting = Math.max(failed.waiting, shown);
  ui.count.dataset.count = String(waiting);
  ui.replay.disabled = waiting === 0;
  if (!waiting) {
    ui.count.textContent = "Empty: every callback was delivered or is still being tried.";
    fill(ui.list);
    return;
  }
  const more = waiting > shown ? ` The oldest ${formatNumber(shown)} are listed.` : "";
  ui.count.textContent = `${events(waiting)} failed every attempt and ${waiting === 1 ? "waits" : "wait"} here.${more}`;
  fill(
    ui.list,
    table("The oldest failed callbacks, oldest first.", HEADINGS, failed.callbacks.map(row), { stacked: true }),
  );
}

/** `error` is the ApiError the listing failed with: what was listed before is no longer shown. */
export function renderFailedCallbacksUnavailable(error) {
  ui.count.textContent =
    error.status === 404
      ? "This API has no /ops/callbacks/failed endpoint, so failed callbacks cannot be shown."
      : `The failed callbacks could not be read (${error.code}).`;
  delete ui.count.dataset.count;
  fill(ui.list);
  // The replay may still work (it skips what it cannot read), so the button stays as it was.
}

/**
 * Put every failed callback back on the callbacks queue, each with its retries again, and say how it
 * went. A refused ops key (401, 403, or 503 ops_disabled) is not this panel's to handle: it is thrown
 * for the caller.
 */
export async function replayFailedCallbacks() {
  ui.replay.disabled = true;
  ui.replayResult.textContent = "Replaying…";
  try {
    const { replayed } = await opsCall("POST", "/ops/callbacks/replay");
    ui.replayResult.textContent = `Put ${events(replayed)} back on the callbacks queue, each with its retries again.`;
  } catch (error) {
    if (error.status === 401 || error.status === 403 || error.code === "ops_disabled") throw error;
    ui.replayResult.textContent = `The replay failed (${error.code}). Try again in a moment.`;
  }
}
