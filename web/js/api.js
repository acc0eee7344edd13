// The HTTP client both pages share: URLs under the configured API base, JSON in and out,
// errors as ApiError with the API's stable code, and long-polling.
import { API_BASE } from "../config.js";

// How long one long-poll asks the server to hold the request; the server caps it at 25 s.
const LONG_POLL_SECONDS = 20;
// A 503 while the API's storage is out of reach is retried this many times, after the Retry-After the
// API asks for (bounded), before the caller sees the error.
const UNAVAILABLE_RETRIES = 4;
const RETRY_AFTER_MIN_SECONDS = 1;
const RETRY_AFTER_MAX_SECONDS = 30;
// When Retry-After cannot be read (a cross-origin response does not expose it).
const RETRY_AFTER_DEFAULT_SECONDS = 3;

class ApiError extends Error {
  /**
   * @param {number} status HTTP status, or 0 when the server could not be reached
   * @param {string} code the API's error code, "network", or "http_<status>" when the body had none
   * @param {number | null} retryAfter seconds the API asked the client to wait (Retry-After), if any
   */
  constructor(status, code, message, retryAfter = null) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.code = code;
    this.retryAfter = retryAfter;
  }
}

// The base as an absolute URL with no trailing slash, so "/api" and "https://x.net/api/" both work.
const apiBase = new URL(API_BASE.replace(/\/+$/, ""), document.baseURI);

/** An API path of our own, like "/interviews/abc", under the configured base. */
export function endpoint(path) {
  return new URL(apiBase.href + path);
}

/**
 * A URL the server handed back (poll_url, report_url). It already carries the server's base path
 * ("/api/interviews/…"), so it is resolved against the API's origin instead of appended to API_BASE,
 * which would double the prefix; an absolute URL stays as it is.
 */
export function serverUrl(url) {
  return new URL(url, apiBase);
}

/**
 * One API call. Resolves to {status, data} for 2xx answers; throws ApiError otherwise.
 * A 503 that says storage is out of reach (or a bare 503 from a front end) is tried again after the
 * Retry-After it came with, up to UNAVAILABLE_RETRIES times; `onRetry(seconds)` is told before each wait.
 * The ops key goes only in the X-Ops-Key header, never in the URL.
 * @param {string} method
 * @param {URL} url from endpoint() or serverUrl()
 * @param {{token?: string, opsKey?: string, body?: unknown, onRetry?: (seconds: number) => void}} options
 */
export async function callApi(method, url, { token, opsKey, body, onRetry } = {}) {
  for (let retries = 0; ; retries += 1) {
    try {
      return await callOnce(method, url, { token, opsKey, body });
    } catch (error) {
      if (!(error instanceof ApiError) || !isTemporary(error) || retries >= UNAVAILABLE_RETRIES) throw error;
      const seconds = Math.min(
        RETRY_AFTER_MAX_SECONDS,
        Math.max(RETRY_AFTER_MIN_SECONDS, error.retryAfter ?? RETRY_AFTER_DEFAULT_SECONDS),
      );
      onRetry?.(seconds);
      await sleep(seconds * 1000);
    }
  }
}

/** Storage out of reach for a moment: worth the same request again. */
function isTemporary(error) {
  return error.status === 503 && (error.code === "storage_unavailable" || error.code === "http_503");
}

async function callOnce(method, url, { token, opsKey, body }) {
  const headers = { Accept: "application/json" };
  if (token) headers.Authorization = `Bearer ${token}`;
  if (opsKey) headers["X-Ops-Key"] = opsKey;
  if (body !== undefined) headers["Content-Type"] = "application/json";

  let response;
  try {
    response = await fetch(url, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      cache: "no-store",
    });
  } catch (networkFailure) {
    throw new ApiError(0, "network", String(networkFailure));
  }

  const data = await readJson(response);
  if (response.ok) return { status: response.status, data };
  const error = data?.error;
  const retryAfter = Number.parseInt(response.headers.get("Retry-After") ?? "", 10);
  throw new ApiError(
    response.status,
    error?.code || `http_${response.status}`,
    error?.message || response.statusText,
    Number.isFinite(retryAfter) ? retryAfter : null,
  );
}

async function readJson(response) {
  // Admin-key rejections and some proxies answer with an empty or non-JSON body.
  const text = await response.text();
  if (!text) return null;
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

/**
 * Delete an interview and everything stored for it (DELETE /interviews/{id}, with its token).
 * Resolves when it is gone (204); throws ApiError otherwise (404 when it is gone already).
 * @param {string} id
 * @param {string} token
 */
export async function deleteInterview(id, token) {
  await callApi("DELETE", endpoint(`/interviews/${encodeURIComponent(id)}`), { token });
}

/**
 * GET a resource that answers 202 while it is being prepared, until it answers 200.
 * Each request is a long-poll (the server holds it until the result is ready or `wait` passes), so
 * waiting costs a request every 20 s, not a busy loop. If a 202 comes back sooner than the server's
 * retry_after (a proxy cutting the wait short), the next request waits out the difference.
 * @param {URL} url
 * @param {{token?: string, onRetry?: (seconds: number) => void}} options
 */
export async function pollUntilReady(url, options) {
  const pollUrl = new URL(url);
  pollUrl.searchParams.set("wait", String(LONG_POLL_SECONDS));
  for (;;) {
    const startedAt = Date.now();
    const { status, data } = await callApi("GET", pollUrl, options);
    if (status !== 202) return data;
    const minimumGapMs = Math.max(1, data?.retry_after ?? 1) * 1000;
    const elapsedMs = Date.now() - startedAt;
    if (elapsedMs < minimumGapMs) await sleep(minimumGapMs - elapsedMs);
  }
}

function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
