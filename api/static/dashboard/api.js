// The dashboard's calls to the API: sign-in, the bearer token, and reading JSON.
// The token is kept in sessionStorage: it lasts as long as the tab and is gone when it closes.

const TOKEN_KEY = "orderflow.dashboard.token";
export const API = "/api/v1";

/** A refused or failed call, with the HTTP status and the API's one-sentence reason. */
export class ApiError extends Error {
  constructor(status, kind, detail, retryAfter = null) {
    super(detail);
    this.status = status;
    this.kind = kind;
    this.retryAfter = retryAfter;
  }
}

export function token() {
  return sessionStorage.getItem(TOKEN_KEY);
}

export function forgetToken() {
  sessionStorage.removeItem(TOKEN_KEY);
}

async function failure(response) {
  let kind = "Error";
  let detail = `the server answered ${response.status}`;
  try {
    const body = await response.json();
    kind = body.error || kind;
    if (typeof body.detail === "string") detail = body.detail;
  } catch {
    // Not the API's JSON (a proxy's page, say): keep the status line.
  }
  return new ApiError(response.status, kind, detail, response.headers.get("Retry-After"));
}

/** Trade a username and password for a bearer token (OAuth2 password form); not kept yet. */
export async function signIn(username, password) {
  const response = await fetch(`${API}/auth/token`, {
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ username, password, grant_type: "password" }),
  });
  if (!response.ok) throw await failure(response);
  const body = await response.json();
  return body.access_token;
}

export function keepToken(value) {
  sessionStorage.setItem(TOKEN_KEY, value);
}

/** GET a JSON resource of the API with the bearer token (or the one given). */
export async function getJson(path, params = null, bearer = token()) {
  const query = params ? `?${new URLSearchParams(params)}` : "";
  const response = await fetch(`${API}${path}${query}`, {
    headers: { Authorization: `Bearer ${bearer}`, Accept: "application/json" },
    cache: "no-store",
  });
  if (!response.ok) throw await failure(response);
  return response.json();
}

/** The dashboard's own settings: where the Temporal UI is, the namespace, the refresh pace. */
export async function dashboardConfig() {
  const response = await fetch("/dashboard/config", { cache: "no-store" });
  if (!response.ok) throw await failure(response);
  return response.json();
}

/** Whether a user (as GET /me answers) is staff: anyone holding a role besides customer. */
export function isStaff(user) {
  return user.roles.some((role) => role !== "customer");
}
