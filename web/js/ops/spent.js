// What the day used, from the summary's `spent`, in all and per interview.
import { el, formatNumber } from "../dom.js";
import { formatRatio } from "./format.js";
import { cell, numberCell, table } from "./table.js";

const SPENT = [
  ["remote_calls", "Remote model calls", "the only calls that use a provider's quota"],
  ["redis_commands", "Redis commands", "cache, signals and counters"],
  ["redis_backup_commands", "Backup Redis commands", "of those, sent to the backup Redis"],
  ["queue_messages", "Queue messages", "jobs put on the queues"],
  ["table_operations", "Table operations", "reads and writes of the record (a storage cost line)"],
  ["function_executions", "Function executions", "HTTP calls, queue jobs and timers"],
];

/** The table of what today used. */
export function spentTable(spent = {}, interviews = 0) {
  const rows = SPENT.map(([key, name, what]) => {
    const count = spent[key] ?? 0;
    return el(
      "tr",
      { "data-spent": key },
      cell([el("strong", {}, name), el("div", { class: "muted small" }, what)]),
      numberCell(formatNumber(count)),
      numberCell(interviews ? formatRatio(count / interviews) : "—"),
    );
  });
  return table(
    "What today used, in all and per interview; — means no interviews yet.",
    [["Resource"], ["Today", true], ["Per interview", true]],
    rows,
  );
}
