// The ops dashboard: today's summary, the provider pool and the poison queue, behind the admin key.
// It refreshes itself every few seconds while the tab is visible and pauses while it is hidden.
import { callApi, endpoint } from "./api.js";
import { ratioLineChart, seriesClass, stackedBarChart } from "./charts.js";
import { el, fill, formatNumber, formatPercent, fractionBar, show } from "./dom.js";

const REFRESH_SECONDS = 5;
const ADMIN_KEY_STORAGE = "mock-interview:admin-key";
// The poison listing peeks at most this many messages (core/poison.py BATCH).
const POISON_PEEK_LIMIT = 32;
const HOURS = Array.from({ length: 24 }, (_, hour) => String(hour).padStart(2, "0"));

const byId = (id) => document.getElementById(id);
const ui = {
  error: byId("ops-error"),
  signOut: byId("sign-out"),
  login: byId("login"),
  loginForm: byId("login-form"),
  adminKeyInput: byId("admin-key"),
  dashboard: byId("dashboard"),
  title: byId("dashboard-title"),
  refreshStatus: byId("refresh-status"),
  refreshNow: byId("refresh-now"),
  tiles: byId("tiles"),
  callsChart: byId("calls-chart"),
  callsLegend: byId("calls-legend"),
  hitRateChart: byId("hit-rate-chart"),
  layers: byId("layers"),
  latency: byId("latency"),
  providers: byId("providers"),
  poisonCount: byId("poison-count"),
  replay: byId("replay"),
  replayResult: byId("replay-result"),
  poisonMessages: byId("poison-messages"),
};

let refreshTimer = null;
let refreshing = null;
let lastSummary = null;

// --- the admin key: in sessionStorage, so it is gone when the tab closes ---------------------------

function storedAdminKey() {
  try {
    return window.sessionStorage.getItem(ADMIN_KEY_STORAGE);
  } catch {
    return null;
  }
}

let adminKey = storedAdminKey();

/** Remember the key (or forget it, with null) for this tab. */
function setAdminKey(value) {
  adminKey = value;
  try {
    if (value) window.sessionStorage.setItem(ADMIN_KEY_STORAGE, value);
    else window.sessionStorage.removeItem(ADMIN_KEY_STORAGE);
  } catch {
    // Blocked storage: the key then lasts until the page is reloaded.
  }
}

async function opsCall(method, path) {
  const { data } = await callApi(method, endpoint(path), { adminKey });
  return data;
}

// --- formatting ---------------------------------------------------------------------------------------

function formatMs(ms) {
  if (ms === null || ms === undefined) return "—";
  return ms >= 1000
    ? `${formatNumber(ms / 1000, { maximumFractionDigits: 1 })} s`
    : `${formatNumber(Math.round(ms))} ms`;
}

function formatRatio(value) {
  return value === null || value === undefined ? "—" : formatNumber(value, { maximumFractionDigits: 2 });
}

function formatTime(iso) {
  return new Date(iso).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", second: "2-digit" });
}

/**
 * A table; `headings` are [text, numeric?]. With `stacked`, each row becomes a card on phones, every
 * cell labelled with its column's heading (data-label, shown by the stylesheet).
 */
function table(caption, headings, rows, { stacked = false } = {}) {
  if (stacked) {
    for (const row of rows) {
      [...row.cells].forEach((td, index) => td.setAttribute("data-label", headings[index][0]));
    }
  }
  return el(
    "table",
    { class: stacked ? "stacked" : null },
    caption && el("caption", {}, caption),
    el(
      "thead",
      {},
      el(
        "tr",
        {},
        headings.map(([text, numeric]) => el("th", { scope: "col", class: numeric ? "number" : null }, text)),
      ),
    ),
    el("tbody", {}, rows),
  );
}

const cell = (content, attributes = {}) => el("td", attributes, content);
const numberCell = (content) => el("td", { class: "number" }, content);

// --- the summary -----------------------------------------------------------------------------------------

function tile(label, value, note, attention = false) {
  return el(
    "div",
    { class: attention ? "card tile attention" : "card tile" },
    el("dt", {}, label),
    el("dd", {}, value, note && el("div", { class: "tile-note" }, note)),
  );
}

function renderTiles(summary) {
  const calls = Object.values(summary.provider_calls).reduce((sum, value) => sum + value, 0);
  const counters = summary.counters;
  fill(
    ui.tiles,
    el(
      "dl",
      { class: "tiles" },
      tile("Interviews today", formatNumber(summary.interviews), `${formatNumber(summary.turns)} answers`),
      tile(
        "Provider calls per interview",
        summary.interviews ? formatRatio(calls / summary.interviews) : "—",
        `remote: ${formatRatio(summary.remote_calls_per_interview)} (all but the local evaluator)`,
      ),
      tile(
        "Cache hit rate",
        formatPercent(summary.cache_hit_rate),
        `${formatNumber(counters.cache_hits ?? 0)} hits of ${formatNumber(counters.cache_lookups ?? 0)} lookups`,
      ),
      tile("Jobs queue", formatNumber(summary.queues.jobs), "waiting to be scored"),
      tile("Poison queue", formatNumber(summary.queues.poison), "failed jobs", summary.queues.poison > 0),
    ),
  );
}

// The layers in the order a job meets them; every one but "remote" answers without a remote model.
const LAYERS = [
  ["template", "Templates", "greetings, bank questions and declined answers"],
  ["local", "Local evaluator", "answers scored by the built-in rubric evaluator"],
  ["cache", "Cache", "the same job answered before"],
  ["near_duplicate", "Near duplicates", "an almost identical answer answered before"],
  ["dedup", "Deduplicated", "identical jobs in flight, answered once"],
  ["batched", "Batched", "answers reviewed inside the one report call"],
  ["remote", "Remote model", "calls to a remote model"],
];

// What the day cost, from the summary's `spent`.
const SPENT = [
  ["remote_calls", "Remote model calls", "the only calls that use a provider's quota"],
  ["redis_commands", "Redis commands", "cache, signals and counters"],
  ["redis_backup_commands", "Backup Redis commands", "of those, sent to the backup Redis"],
  ["queue_messages", "Queue messages", "jobs put on the queues"],
  ["function_executions", "Function executions", "HTTP calls, queue jobs and timers"],
];

function renderLayers(layers) {
  const total = LAYERS.reduce((sum, [key]) => sum + (layers[key] ?? 0), 0);
  const saved = total - (layers.remote ?? 0);
  const caption = total
    ? `${formatNumber(saved)} of ${formatNumber(total)} (${formatPercent(saved / total)}) answered without a remote call.`
    : "Nothing answered yet today.";
  const rows = LAYERS.map(([key, name, what]) => {
    const count = layers[key] ?? 0;
    return el(
      "tr",
      { "data-layer": key },
      cell([el("strong", {}, name), el("div", { class: "muted small" }, what)]),
      numberCell(formatNumber(count)),
      cell(
        [
          fractionBar(total ? count / total : 0),
          el("span", { class: "small muted" }, total ? formatPercent(count / total) : "—"),
        ],
        {
          class: "layer-share",
        },
      ),
    );
  });
  return table(caption, [["Layer"], ["Jobs", true], ["Share"]], rows);
}

function renderSpent(spent = {}, interviews = 0) {
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

function renderSaving(summary) {
  fill(
    ui.layers,
    renderLayers(summary.layers),
    el("h3", {}, "Spent today"),
    el("div", { id: "spent" }, renderSpent(summary.spent, summary.interviews)),
  );
}

function renderLatency(latency) {
  const paths = [
    ["answered", "Answered at once", "templates and cache"],
    ["queued", "Queued", "answer to stored feedback"],
  ];
  const rows = paths.map(([key, name, what]) => {
    const stats = latency[key];
    return el(
      "tr",
      { "data-path": key },
      cell([el("strong", {}, name), el("div", { class: "muted small" }, what)]),
      numberCell(stats ? formatNumber(stats.count) : "0"),
      numberCell(formatMs(stats?.p50)),
      numberCell(formatMs(stats?.p95)),
      numberCell(formatMs(stats?.p99)),
    );
  });
  fill(
    ui.latency,
    table(
      "Percentiles over today's samples; — means no samples yet.",
      [["Path"], ["Samples", true], ["p50", true], ["p95", true], ["p99", true]],
      rows,
    ),
  );
}

function renderCharts(summary) {
  const byHour = new Map(summary.hourly.map((entry) => [entry.hour, entry]));
  const providers = [
    ...new Set([
      ...Object.keys(summary.provider_calls),
      ...summary.hourly.flatMap((entry) => Object.keys(entry.provider_calls)),
    ]),
  ].sort();
  const series = providers.map((name) => ({
    name,
    values: HOURS.map((hour) => byHour.get(hour)?.provider_calls[name] ?? 0),
  }));
  const total = series.reduce((sum, one) => sum + one.values.reduce((a, b) => a + b, 0), 0);
  const width = (container) => Math.max(280, Math.floor(container.clientWidth));

  fill(
    ui.callsChart,
    stackedBarChart({
      width: width(ui.callsChart),
      hours: HOURS,
      series,
      label: `Provider calls per hour today: ${formatNumber(total)} in all, ${
        providers
          .map((name, index) => `${name} ${formatNumber(series[index].values.reduce((a, b) => a + b, 0))}`)
          .join(", ") || "none yet"
      }.`,
    }),
  );
  fill(
    ui.callsLegend,
    providers.map((name, index) =>
      el("li", {}, el("span", { class: `legend-swatch ${seriesClass(index)}`, "aria-hidden": "true" }), name),
    ),
  );

  const rates = HOURS.map((hour) => byHour.get(hour)?.hit_rate ?? null);
  const measured = rates.filter((rate) => rate !== null);
  fill(
    ui.hitRateChart,
    ratioLineChart({
      width: width(ui.hitRateChart),
      hours: HOURS,
      values: rates,
      label: measured.length
        ? `Cache hit rate per hour today, from ${formatPercent(Math.min(...measured))} to ${formatPercent(Math.max(...measured))}.`
        : "Cache hit rate per hour today: no cache lookups yet.",
    }),
  );
}

function renderSummary(summary) {
  lastSummary = summary;
  ui.title.textContent = `Today · ${summary.date}`;
  renderTiles(summary);
  renderCharts(summary);
  renderSaving(summary);
  renderLatency(summary.latency_ms);
}

function renderSummaryUnavailable(error) {
  const reason =
    error.status === 404
      ? "This API has no /ops/summary endpoint yet, so today's figures cannot be shown."
      : `Today's figures could not be loaded (${error.code}).`;
  lastSummary = null;
  fill(ui.tiles, el("p", { class: "card muted" }, reason));
  fill(ui.callsLegend);
  for (const part of [ui.callsChart, ui.hitRateChart, ui.layers, ui.latency]) {
    fill(part, el("p", { class: "muted" }, "Not available."));
  }
}

// --- providers and poison ---------------------------------------------------------------------------------

function quotaCell(provider) {
  const fraction = provider.limit_per_day ? provider.used_today / provider.limit_per_day : 0;
  const level = fraction >= 1 ? "quota full" : fraction >= 0.8 ? "quota high" : "quota";
  return el(
    "td",
    { class: level },
    fractionBar(fraction),
    el(
      "span",
      { class: "small" },
      `${formatNumber(provider.used_today)} of ${formatNumber(provider.limit_per_day)}`,
      el("span", { class: "muted" }, ` · ${formatNumber(provider.remaining_today)} left`),
    ),
  );
}

function renderProviders(providers) {
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
    ui.providers,
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

function renderPoison(messages) {
  const count = messages.length;
  const size =
    count >= POISON_PEEK_LIMIT
      ? `${POISON_PEEK_LIMIT} or more messages`
      : `${count} message${count === 1 ? "" : "s"}`;
  ui.poisonCount.textContent = count
    ? `${size} failed every delivery and wait here.`
    : "Empty: no failed jobs.";
  ui.poisonCount.dataset.count = String(count);
  ui.replay.disabled = count === 0;
  if (!count) {
    fill(ui.poisonMessages);
    return;
  }
  fill(
    ui.poisonMessages,
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

// --- refreshing ----------------------------------------------------------------------------------------

function showError(text) {
  ui.error.textContent = text;
  show(ui.error, Boolean(text));
}

function showLogin(message = "") {
  stopRefreshing();
  showError(message);
  show(ui.dashboard, false);
  show(ui.signOut, false);
  show(ui.login, true);
  ui.adminKeyInput.value = "";
  ui.adminKeyInput.focus();
}

function showDashboard() {
  show(ui.login, false);
  show(ui.signOut, true);
  show(ui.dashboard, true);
}

function stopRefreshing() {
  clearTimeout(refreshTimer);
  refreshTimer = null;
}

function scheduleRefresh() {
  stopRefreshing();
  if (document.visibilityState === "visible" && adminKey) {
    refreshTimer = setTimeout(refresh, REFRESH_SECONDS * 1000);
  }
}

/** Load all three views at once; one failing does not hide the others. */
function refresh() {
  // A refresh already under way (timer, button and replay can coincide) is joined, not doubled.
  refreshing ??= loadAll().finally(() => {
    refreshing = null;
    scheduleRefresh();
  });
  return refreshing;
}

async function loadAll() {
  const [summary, providers, poison] = await Promise.allSettled([
    opsCall("GET", "/ops/summary"),
    opsCall("GET", "/ops/providers"),
    opsCall("GET", "/ops/poison"),
  ]);
  const failures = [summary, providers, poison].filter((result) => result.status === "rejected");
  if (failures.some((failure) => failure.reason.status === 401)) {
    setAdminKey(null);
    showLogin("Wrong admin key: the API did not accept it. Check the key and enter it again.");
    return;
  }
  showDashboard();
  if (failures.some((failure) => failure.reason.code === "network")) {
    showError(`Can't reach the API right now. Trying again every ${REFRESH_SECONDS} seconds.`);
  } else {
    showError("");
  }

  if (summary.status === "fulfilled") renderSummary(summary.value);
  else renderSummaryUnavailable(summary.reason);
  if (providers.status === "fulfilled") renderProviders(providers.value.providers);
  else
    fill(
      ui.providers,
      el("p", { class: "muted" }, `The providers could not be loaded (${providers.reason.code}).`),
    );
  if (poison.status === "fulfilled") renderPoison(poison.value.messages);
  else ui.poisonCount.textContent = `The poison queue could not be read (${poison.reason.code}).`;

  const updated = new Date().toLocaleTimeString();
  ui.refreshStatus.textContent = `Updated at ${updated} · refreshes every ${REFRESH_SECONDS} s while this tab is open.`;
}

async function replayPoison() {
  ui.replay.disabled = true;
  ui.replayResult.textContent = "Replaying…";
  try {
    const { replayed } = await opsCall("POST", "/ops/poison/replay");
    ui.replayResult.textContent = `Replayed ${formatNumber(replayed)} message${replayed === 1 ? "" : "s"} onto the jobs queue.`;
  } catch (error) {
    if (error.status === 401) {
      setAdminKey(null);
      showLogin("Wrong admin key: the API did not accept it. Check the key and enter it again.");
      return;
    }
    ui.replayResult.textContent = `The replay failed (${error.code}). Try again in a moment.`;
  }
  await refresh();
}

// --- wiring -------------------------------------------------------------------------------------------

ui.loginForm.addEventListener("submit", (event) => {
  event.preventDefault();
  const key = ui.adminKeyInput.value.trim();
  if (!key) return;
  setAdminKey(key);
  showError("");
  refresh().then(() => {
    if (!ui.dashboard.hidden) ui.title.focus();
  });
});

ui.signOut.addEventListener("click", () => {
  setAdminKey(null);
  showLogin("");
});

ui.refreshNow.addEventListener("click", refresh);
ui.replay.addEventListener("click", replayPoison);

document.addEventListener("visibilitychange", () => {
  if (ui.dashboard.hidden) return;
  if (document.visibilityState === "visible") {
    refresh();
  } else {
    stopRefreshing();
    ui.refreshStatus.textContent = "Paused while this tab is hidden.";
  }
});

// Charts are drawn at the container's width; redraw them when it changes.
let resizeFrame = 0;
window.addEventListener("resize", () => {
  cancelAnimationFrame(resizeFrame);
  resizeFrame = requestAnimationFrame(() => lastSummary && renderCharts(lastSummary));
});

if (adminKey) refresh();
else showLogin();
