// The poison queue panel: the jobs that failed every delivery, and replaying them onto the jobs queue.
import { el, fill, formatNumber } from "../dom.js";
import { opsCall } from "./ops-key.js";
import { formatTime } from "./format.js";
import { cell, table } from "./table.js";

// The poison listing peeks at most this many messages (core/poison.py BATCH).
const POISON_PEEK_LIMIT = 32;

const byId = (id) => document.getElementById(id);
const ui = {
  count: byId("poison-count"),
  replay: byId("replay"),
  replayResult: byId("replay-result"),
  messages: byId("poison-messages"),
};

export function renderPoison(messages) {
  const count = messages.length;
  const size =
    count >= POISON_PEEK_LIMIT
      ? `${POISON_PEEK_LIMIT} or more messages`
      : `${count} message${count === 1 ? "" : "s"}`;
  ui.count.textContent = count ? `${size} failed every delivery and wait here.` : "Empty: no failed jobs.";
  ui.count.dataset.count = String(count);
  ui.replay.disabled = count === 0;
  if (!count) {
    fill(ui.messages);
    return;
  }
  fill(
    ui.messages,
    table(
      null,
      [["Put here"], ["Message"]],
      messages.map((message) =>
        el(
          "tr",
          {},
          cell(message.inserted_on ? formatTime(message.inserted_on) : "—"),
          cell([
            el("div", { class: "message-body" }, message.body),
            el("div", { class: "muted small" }, message.id),
          ]),
        ),
      ),
      { stacked: true },
    ),
  );
}

/** `error` is the ApiError the listing failed with. */
export function renderPoisonUnavailable(error) {
  ui.count.textContent = `The poison queue could not be read (${error.code}).`;
}

/**
 * Put every poison message back on the jobs queue and say how it went. A refused ops key (401, 403, or
 * 503 ops_disabled) is not this panel's to handle: it is thrown for the caller.
 */
export async function replayPoison() {
  ui.replay.disabled = true;
  ui.replayResult.textContent = "Replaying…";
  try {
    const { replayed } = await opsCall("POST", "/ops/poison/replay");
    ui.replayResult.textContent = `Replayed ${formatNumber(replayed)} message${replayed === 1 ? "" : "s"} onto the jobs queue.`;
  } catch (error) {
    if (error.status === 401 || error.status === 403 || error.code === "ops_disabled") throw error;
    ui.replayResult.textContent = `The replay failed (${error.code}). Try again in a moment.`;
  }
}
