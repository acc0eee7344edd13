// The ops key (the app's OPS_KEY) the ops API wants, kept in sessionStorage so it is gone when the tab
// closes, and the one call every panel makes with it. The key travels only in the X-Ops-Key header:
// never in a URL, where it would end up in logs and history.
import { callApi, endpoint } from "../api.js";

const OPS_KEY_STORAGE = "mock-interview:ops-key";

function storedOpsKey() {
  try {
    return window.sessionStorage.getItem(OPS_KEY_STORAGE);
  } catch {
    return null;
  }
}

let opsKey = storedOpsKey();

export function hasOpsKey() {
  return Boolean(opsKey);
}

/** Remember the key (or forget it, with null) for this tab. */
export function setOpsKey(value) {
  opsKey = value;
  try {
    if (value) window.sessionStorage.setItem(OPS_KEY_STORAGE, value);
    else window.sessionStorage.removeItem(OPS_KEY_STORAGE);
  } catch {
    // Blocked storage: the key then lasts until the page is reloaded.
  }
}

/** One ops API call with the ops key; resolves to the answer's JSON, throws ApiError. */
export async function opsCall(method, path) {
  const { data } = await callApi(method, endpoint(path), { opsKey });
  return data;
}
