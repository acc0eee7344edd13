// How the dashboard writes durations, ratios and times; the general number formats are in ../dom.js.
import { formatNumber } from "../dom.js";

/** 850 → "850 ms", 1234 → "1.2 s"; null → "—". */
export function formatMs(ms) {
  if (ms === null || ms === undefined) return "—";
  return ms >= 1000
    ? `${formatNumber(ms / 1000, { maximumFractionDigits: 1 })} s`
    : `${formatNumber(Math.round(ms))} ms`;
}

/** 2.345 → "2.35"; null → "—". */
export function formatRatio(value) {
  return value === null || value === undefined ? "—" : formatNumber(value, { maximumFractionDigits: 2 });
}

/** An ISO timestamp as the reader's local time of day, to the second. */
export function formatTime(iso) {
  return new Date(iso).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", second: "2-digit" });
}

/** An ISO timestamp as the reader's local time of day if it is today, with its date before if not. */
export function formatWhen(iso) {
  const when = new Date(iso);
  if (when.toDateString() === new Date().toDateString()) return formatTime(iso);
  const day = when.toLocaleDateString([], { year: "numeric", month: "short", day: "numeric" });
  return `${day}, ${formatTime(iso)}`;
}
