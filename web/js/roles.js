// The roles offered on the setup form. They come from the question bank (GET /roles), so a role's title
// is written in one place: the "title" of data/questions/<role>.json.
import { callApi, endpoint } from "./api.js";
import { el } from "./dom.js";

const LOADING = "Loading the roles…";
const FAILED = "The roles could not be loaded";

/** The bank's roles in the bank's order: [{role, title}]. */
async function fetchRoles() {
  const { data } = await callApi("GET", endpoint("/roles"));
  if (!Array.isArray(data?.roles)) throw new Error("GET /roles answered without a list of roles");
  return data.roles;
}

/**
 * Put the bank's roles in `select`, before its "Another role…" option, and take away the placeholder
 * (the empty first option, which keeps a required list from being sent until then). The first role is
 * then the one chosen, unless "Another role…" was picked meanwhile. If the roles cannot be loaded, the
 * placeholder says so and the error is thrown.
 */
export async function loadRoleOptions(select) {
  const placeholder = select.querySelector('option[value=""]');
  if (placeholder) placeholder.textContent = LOADING;
  let roles;
  try {
    roles = await fetchRoles();
  } catch (error) {
    if (placeholder) placeholder.textContent = FAILED;
    throw error;
  }
  const custom = select.querySelector('option[value="custom"]');
  custom.before(...roles.map(({ role, title }) => el("option", { value: role }, title)));
  // Removed after the roles are in, so the list falls back on the first of them, not on "Another role…".
  placeholder?.remove();
}
