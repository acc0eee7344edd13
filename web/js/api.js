// The HTTP client both pages share: URLs under the configured API base, JSON in and out,
// errors as ApiError with the API's stable code, and long-polling.
import { API_BASE } from "../config.js";

// How long one long-poll asks the server to hold the request; the server caps it at 25 s.
const LONG_POLL_SECONDS = 20;

class ApiError extends Error {
  /**
   * @param {number} status HTTP status, or 0 when the server could not be reached
   * @param {string} code the API's error code, "network", or "http_<status>" when the body had none
   */
  constructor(status, code, message) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.code = code;
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
 * @param {string} method
 * @param {URL} url from endpoint() or serverUrl()
 * @param {{token?: string, adminKey?: string, body?: unknown}} options
 */
export async function callApi(method, url, { token, adminKey, body } = {}) {
  const headers = { Accept: "application/json" };
  if (token) headers.Authorization = `Bearer ${token}`;
  if (adminKey) headers["x-functions-key"] = adminKey;
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
  throw new ApiError(
    response.status,
    error?.code || `http_${response.status}`,
    error?.message || response.statusText,
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
 * GET a resource that answers 202 while it is being prepared, until it answers 200.
 * Each request is a long-poll (the server holds it until the result is ready or `wait` passes), so
 * waiting costs a request every 20 s, not a busy loop. If a 202 comes back sooner than the server's
 * retry_after (a proxy cutting the wait short), the next request waits out the difference.
 * @param {URL} url
 * @param {{token?: string}} options
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
