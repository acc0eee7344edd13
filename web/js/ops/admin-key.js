// The admin key the ops API wants, kept in sessionStorage so it is gone when the tab closes, and the
// one call every panel makes with it.
import { callApi, endpoint } from "../api.js";

const ADMIN_KEY_STORAGE = "mock-interview:admin-key";

function storedAdminKey() {
  try {
    return window.sessionStorage.getItem(ADMIN_KEY_STORAGE);
  } catch {
    return null;
  }
}

let adminKey = storedAdminKey();

export function hasAdminKey() {
  return Boolean(adminKey);
}

/** Remember the key (or forget it, with null) for this tab. */
export function setAdminKey(value) {
  adminKey = value;
  try {
    if (value) window.sessionStorage.setItem(ADMIN_KEY_STORAGE, value);
    else window.sessionStorage.removeItem(ADMIN_KEY_STORAGE);
  } catch {
    // Blocked storage: the key then lasts until the page is reloaded.
  }
}

/** One ops API call with the admin key; resolves to the answer's JSON, throws ApiError. */
export async function opsCall(method, path) {
  const { data } = await callApi(method, endpoint(path), { adminKey });
  return data;
}
