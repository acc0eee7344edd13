// The clients panel: the clients that started the most interviews today and the clients a limit
// refused, each known only by a hash of its address (salted per day: it says nothing about the address and changes at midnight UTC).
import { el, fill, formatNumber } from "../dom.js";
import { cell, numberCell, table } from "./table.js";

const container = document.getElementById("clients");

const LIMIT_NAMES = {
  rate_limited: "writes a minute",
  daily_interviews: "interviews a day",
  daily_custom_roles: "custom roles a day",
  model_calls: "share of model calls",
};

/** "1 custom role", "5 custom roles": `one` is the singular, `many` the plural. */
function count(number, one, many) {
  return `${formatNumber(number)} ${number === 1 ? one : many}`;
}

function limitsInWords(limits) {
  const parts = [];
  parts.push(
    limits.writes_per_minute
      ? `${count(limits.writes_per_minute, "write", "writes")} a minute (bursts of ${formatNumber(limits.burst)})`
      : "no rate limit",
  );
  parts.push(
    limits.interviews_per_day ? `${count(limits.interviews_per_day, "interview", "interviews")} a day` : "no daily cap",
  );
  parts.push(
    limits.custom_roles_per_day
      ? `${count(limits.custom_roles_per_day, "custom role", "custom roles")} a day`
      : "no cap on custom roles",
  );
  parts.push(
    limits.model_call_share
      ? `${formatNumber(limits.model_call_share, { style: "percent", maximumSignificantDigits: 2 })} of the day's model calls`
      : "no cap on model calls",
  );
  return `Per client: ${parts.join(", ")}. Days are UTC.`;
}

function limitedInWords(limited) {
  const entries = Object.entries(limited ?? {});
  if (entries.length === 0) return "—";
  return entries.map(([code, times]) => `${LIMIT_NAMES[code] ?? code} ×${formatNumber(times)}`).join(", ");
}

function clientRows(clients) {
  return clients.map((client) =>
    el(
      "tr",
      { "data-client": client.client },
      cell(el("code", {}, client.client)),
      numberCell(formatNumber(client.interviews)),
      numberCell(formatNumber(client.custom_roles)),
      numberCell(formatNumber(client.model_calls)),
      cell(limitedInWords(client.limited), { class: "limited" }),
    ),
  );
}

const HEADINGS = [
  ["Client (hash)"],
  ["Interviews", true],
  ["Custom roles", true],
  ["Model calls", true],
  ["Refused by"],
];

export function renderClients(clients) {
  if (!clients) {
    renderClientsUnavailable();
    return;
  }
  const parts = [el("p", { class: "small", id: "clients-limits" }, limitsInWords(clients.limits))];
  if (clients.top.length === 0) {
    parts.push(el("p", { class: "muted" }, "No interview counted today (or every daily limit is off)."));
  } else {
    const top = table("The clients that started the most interviews today.", HEADINGS, clientRows(clients.top), {
      stacked: true,
    });
    parts.push(el("div", { class: "table-scroll", id: "clients-top" }, top));
  }
  parts.push(el("h3", {}, "Limited today"));
  if (clients.limited.length === 0) {
    parts.push(el("p", { class: "muted", id: "clients-limited" }, "No client was refused today."));
  } else {
    const limited = table(
      "Clients a limit refused today, most refused first.",
      HEADINGS,
      clientRows(clients.limited),
      { stacked: true },
    );
    parts.push(el("div", { class: "table-scroll", id: "clients-limited" }, limited));
  }
  fill(container, parts);
}

export function renderClientsUnavailable() {
  fill(container, el("p", { class: "muted" }, "Not available."));
}
