// The ops dashboard: today's summary, the clients, the provider pool, the poison queue and the failed
// callbacks, behind the ops key (OPS_KEY, sent as X-Ops-Key).
// This module signs in and out and keeps the panels fresh: it refreshes them every few seconds while
// the tab is visible and pauses while it is hidden. Each panel draws itself (the modules beside this one).
import { show } from "../dom.js";
import { renderCapacity, renderCapacityUnavailable } from "./capacity.js";
import { renderClients, renderClientsUnavailable } from "./clients.js";
import {
  renderFailedCallbacks,
  renderFailedCallbacksUnavailable,
  replayFailedCallbacks,
} from "./failed-callbacks.js";
import { renderGovernor, renderGovernorUnavailable } from "./governor.js";
import { redrawCharts, renderCharts, renderChartsUnavailable } from "./hourly-charts.js";
import { renderLatency, renderLatencyUnavailable } from "./latency.js";
import { hasOpsKey, opsCall, setOpsKey } from "./ops-key.js";
import { renderPoison, renderPoisonUnavailable, replayPoison } from "./poison.js";
import { renderProviders, renderProvidersUnavailable } from "./providers.js";
import { renderSaving, renderSavingUnavailable } from "./saving.js";
import { renderTiles, renderTilesUnavailable } from "./tiles.js";

const REFRESH_SECONDS = 5;
const WRONG_KEY = "Wrong ops key: the API did not accept it. Check the key and enter it again.";
const OPS_DISABLED =
  "Ops are disabled on this API: it has no OPS_KEY setting. Set one (a Key Vault secret on Azure, " +
  "local.settings.json locally) and sign in with it.";

const byId = (id) => document.getElementById(id);
const ui = {
  error: byId("ops-error"),
  signOut: byId("sign-out"),
  login: byId("login"),
  loginForm: byId("login-form"),
  opsKeyInput: byId("ops-key"),
  dashboard: byId("dashboard"),
  title: byId("dashboard-title"),
  refreshStatus: byId("refresh-status"),
  refreshNow: byId("refresh-now"),
  replay: byId("replay"),
  replayCallbacks: byId("callbacks-replay"),
};

let refreshTimer = null;
let refreshing = null;

// --- the summary -----------------------------------------------------------------------------------------

function renderSummary(summary) {
  ui.title.textContent = `Today · ${summary.date}`;
  renderTiles(summary);
  renderCharts(summary);
  renderSaving(summary);
  renderLatency(summary.latency_ms);
  renderCapacity(summary.capacity);
  renderGovernor(summary.governor);
  renderClients(summary.clients);
}

function renderSummaryUnavailable(error) {
  const reason =
    error.status === 404
      ? "This API has no /ops/summary endpoint yet, so today's figures cannot be shown."
      : `Today's figures could not be loaded (${error.code}).`;
  renderTilesUnavailable(reason);
  renderChartsUnavailable();
  renderSavingUnavailable();
  renderLatencyUnavailable();
  renderCapacityUnavailable();
  renderGovernorUnavailable();
  renderClientsUnavailable();
}

// --- signing in and out ----------------------------------------------------------------------------------

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
  ui.opsKeyInput.value = "";
  ui.opsKeyInput.focus();
}

/** The API refused the key (401 none, 403 another) or has none (503 ops_disabled): ask again. */
function refusedKey(failures) {
  if (failures.some((error) => error.status === 503 && error.code === "ops_disabled")) return OPS_DISABLED;
  if (failures.some((error) => error.status === 401 || error.status === 403)) return WRONG_KEY;
  return null;
}

function rejectOpsKey(message) {
  setOpsKey(null);
  showLogin(message);
}

function showDashboard() {
  show(ui.login, false);
  show(ui.signOut, true);
  show(ui.dashboard, true);
}

// --- refreshing ----------------------------------------------------------------------------------------

function stopRefreshing() {
  clearTimeout(refreshTimer);
  refreshTimer = null;
}

function scheduleRefresh() {
  stopRefreshing();
  if (document.visibilityState === "visible" && hasOpsKey()) {
    refreshTimer = setTimeout(refresh, REFRESH_SECONDS * 1000);
  }
}

/** Load every view at once; one failing does not hide the others. */
function refresh() {
  // A refresh already under way (timer, button and replay can coincide) is joined, not doubled.
  refreshing ??= loadAll().finally(() => {
    refreshing = null;
    scheduleRefresh();
  });
  return refreshing;
}

async function loadAll() {
  const [summary, providers, poison, failedCallbacks] = await Promise.allSettled([
    opsCall("GET", "/ops/summary"),
    opsCall("GET", "/ops/providers"),
    opsCall("GET", "/ops/poison"),
    opsCall("GET", "/ops/callbacks/failed"),
  ]);
  const failures = [summary, providers, poison, failedCallbacks].filter((result) => result.status === "rejected");
  const refused = refusedKey(failures.map((failure) => failure.reason));
  if (refused) {
    rejectOpsKey(refused);
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
  else renderProvidersUnavailable(providers.reason);
  if (poison.status === "fulfilled") renderPoison(poison.value.messages);
  else renderPoisonUnavailable(poison.reason);
  if (failedCallbacks.status === "fulfilled") renderFailedCallbacks(failedCallbacks.value);
  else renderFailedCallbacksUnavailable(failedCallbacks.reason);

  const updated = new Date().toLocaleTimeString();
  ui.refreshStatus.textContent = `Updated at ${updated} · refreshes every ${REFRESH_SECONDS} s while this tab is open.`;
}

/** Run `replay` (a panel's), then show the panels as they are afterwards. */
async function replayThenRefresh(replay) {
  try {
    await replay();
  } catch (error) {
    const refused = refusedKey([error]);
    if (refused) {
      rejectOpsKey(refused);
      return;
    }
    throw error;
  }
  await refresh();
}

// --- wiring -------------------------------------------------------------------------------------------

ui.loginForm.addEventListener("submit", (event) => {
  event.preventDefault();
  const key = ui.opsKeyInput.value.trim();
  if (!key) return;
  setOpsKey(key);
  showError("");
  refresh().then(() => {
    if (!ui.dashboard.hidden) ui.title.focus();
  });
});

ui.signOut.addEventListener("click", () => {
  setOpsKey(null);
  showLogin("");
});

ui.refreshNow.addEventListener("click", refresh);
ui.replay.addEventListener("click", () => replayThenRefresh(replayPoison));
ui.replayCallbacks.addEventListener("click", () => replayThenRefresh(replayFailedCallbacks));

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
  resizeFrame = requestAnimationFrame(redrawCharts);
});

if (hasOpsKey()) refresh();
else showLogin();
