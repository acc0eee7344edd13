// The providers panel: every provider key, today's use against its daily quota, and its health.
import { el, fill, formatNumber, formatPercent, fractionBar } from "../dom.js";
import { formatMs, formatTime } from "./format.js";
import { cell, numberCell, table } from "./table.js";

const container = document.getElementById("providers");

// Today's use against the daily limit the provider states: requests where it limits them, else tokens.
function quotaCell(provider) {
  const byRequests = provider.limit_per_day !== null;
  const used = byRequests ? provider.used_today : provider.tokens_today;
  const limit = byRequests ? provider.limit_per_day : provider.tokens_per_day;
  const unit = byRequests ? "" : " tokens";
  const fraction = limit ? used / limit : 0;
  const level = fraction >= 1 ? "quota full" : fraction >= 0.8 ? "quota high" : "quota";
  return el(
    "td",
    { class: level },
    fractionBar(fraction),
    el(
      "span",
      { class: "small" },
      limit ? `${formatNumber(used)} of ${formatNumber(limit)}${unit}` : `${formatNumber(used)}${unit}`,
      limit && el("span", { class: "muted" }, ` · ${formatNumber(Math.max(0, limit - used))} left`),
      provider.tokens_today > 0 &&
        byRequests &&
        el("div", { class: "muted" }, `${formatNumber(provider.tokens_today)} tokens`),
    ),
  );
}

export function renderProviders(providers) {
  const rows = providers.map((provider) =>
    el(
      "tr",
      { "data-provider": provider.provider },
      cell([
        el("strong", {}, provider.provider),
        provider.key !== null && el("div", { class: "muted small" }, `key ${provider.key + 1}`),
      ]),
      cell(provider.model),
      cell([
        el("span", { class: `state state-${provider.state.replace(" ", "-")}` }, provider.state),
        provider.until && el("div", { class: "muted small" }, `until ${formatTime(provider.until)}`),
      ]),
      quotaCell(provider),
      numberCell(formatNumber(provider.limit_per_minute)),
      numberCell(formatMs(provider.latency_ms)),
      numberCell([
        `${formatNumber(provider.calls_today)} / ${formatNumber(provider.errors_today)}`,
        provider.error_rate !== null &&
          el("div", { class: "muted small" }, `${formatPercent(provider.error_rate)} errors`),
      ]),
      cell(provider.notes, { class: "notes" }),
    ),
  );
  fill(
    container,
    table(
      "Each provider key, today's use against its daily limit (in the provider's own time zone), and its health.",
      [
        ["Provider"],
        ["Model"],
        ["State"],
        ["Used today"],
        ["Per minute", true],
        ["Latency", true],
        ["Calls / errors", true],
        ["Notes"],
      ],
      rows,
      { stacked: true },
    ),
  );
}

/** In place of the table: why the providers are missing (`error` is the ApiError). */
export function renderProvidersUnavailable(error) {
  fill(container, el("p", { class: "muted" }, `The providers could not be loaded (${error.code}).`));
}
