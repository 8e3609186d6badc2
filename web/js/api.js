// The one client of the HTTP API: tokens, errors and polling.
//
// Tokens: the access token lives in memory only; the refresh token (single use, rotated on every
// refresh) is kept in sessionStorage so a reload in the same tab stays signed in and closing the tab
// signs out. Nothing else is stored, and never the photo: it is sent from memory as a Blob.
// Errors: every failure is an ApiError with the API's stable `code` (pipeline/errors.py) and its
// `details`, or code "network" when the service could not be reached.

const REFRESH_KEY = "refresh_token";
const POLL_INTERVAL_MS = 500; // until the status says otherwise (poll_after_s, serve_app/api/schemas.py)
const MAX_RETRY_DELAY_MS = 4000;

let accessToken = null;
let refreshing = null;

export class ApiError extends Error {
  constructor(status, code, message, details = {}) {
    super(message);
    this.status = status;
    this.code = code;
    this.details = details ?? {};
  }

  /** Worth retrying as it is: the service was unreachable, overloaded or asked to slow down. */
  get transient() {
    return this.code === "network" || this.status === 429 || this.status === 502 || this.status === 503
      || this.status === 504;
  }
}

export function signedIn() {
  return accessToken !== null || sessionStorage.getItem(REFRESH_KEY) !== null;
}

function keep(pair) {
  accessToken = pair.access_token;
  sessionStorage.setItem(REFRESH_KEY, pair.refresh_token);
}

export function forget() {
  accessToken = null;
  sessionStorage.removeItem(REFRESH_KEY);
}

async function send(method, path, { json, form, auth = true } = {}) {
  const headers = { Accept: "application/json" };
  let body;
  if (json !== undefined) {
    headers["Content-Type"] = "application/json";
    body = JSON.stringify(json);
  } else if (form !== undefined) {
    body = form;
  }
  if (auth && accessToken) headers.Authorization = `Bearer ${accessToken}`;
  let response;
  try {
    response = await fetch(path, { method, headers, body, cache: "no-store", credentials: "omit" });
  } catch {
    throw new ApiError(0, "network", "The service could not be reached.");
  }
  if (response.status === 204) return null;
  let parsed = null;
  try {
    parsed = await response.json();
  } catch {
    parsed = null;
  }
  if (!response.ok) {
    const error = parsed?.error ?? {};
    const code = error.code ?? (response.status >= 500 ? "INTERNAL_ERROR" : "HTTP_" + response.status);
    throw new ApiError(response.status, code, error.message ?? response.statusText, error.details);
  }
  return parsed;
}

async function refresh() {
  const token = sessionStorage.getItem(REFRESH_KEY);
  if (!token) return false;
  // One refresh at a time: the token is single use, so two racing refreshes would revoke the family.
  refreshing ??= send("POST", "/auth/refresh", { json: { refresh_token: token }, auth: false })
    .then((pair) => { keep(pair); return true; })
    .catch((error) => {
      if (!error.transient) forget();
      return false;
    })
    .finally(() => { refreshing = null; });
  return refreshing;
}

/** A signed-in call: refreshes the access token once when it is missing or expired. */
async function call(method, path, options = {}) {
  if (accessToken === null) await refresh();
  try {
    return await send(method, path, options);
  } catch (error) {
    if (error.status === 401 && (await refresh())) return send(method, path, options);
    if (error.status === 401) forget();
    throw error;
  }
}

export async function register(username, password) {
  keep(await send("POST", "/auth/register", { json: { username, password }, auth: false }));
}

export async function login(username, password) {
  keep(await send("POST", "/auth/login", { json: { username, password }, auth: false }));
}

export async function logout() {
  const token = sessionStorage.getItem(REFRESH_KEY);
  try {
    if (token) await send("POST", "/auth/logout", { json: { refresh_token: token }, auth: false });
  } finally {
    forget();
  }
}

/** Send the photo (a JPEG Blob held in memory) with the meter's score; answers {task_id, status_url}. */
export function startAnalysis(photo, { lightingScore, lang }) {
  const form = new FormData();
  form.append("image", photo, "photo.jpg");
  if (lightingScore !== undefined && lightingScore !== null) form.append("lighting_score", String(lightingScore));
  form.append("lang", lang);
  return call("POST", "/analysis/start", { form });
}

export const result = (id) => call("GET", `/analysis/result/${encodeURIComponent(id)}`);
export const history = (cursor) => call("GET", "/history" + (cursor ? `?cursor=${encodeURIComponent(cursor)}` : ""));
export const deleteEntry = (id) => call("DELETE", `/history/${encodeURIComponent(id)}`);
export async function deleteAccount() {
  await call("DELETE", "/me");
  forget();
}

const sleep = (ms, signal) => new Promise((resolve, reject) => {
  const timer = setTimeout(resolve, ms);
  signal?.addEventListener("abort", () => { clearTimeout(timer); reject(signal.reason); }, { once: true });
});

/**
 * Poll GET /analysis/status/{id} every `poll_after_s` the status names (0.5 s) until it is completed
 * or failed; resolves with the final status. `onUpdate(status, {retrying})` sees every answer. A network blip or an overloaded
 * service does not end the wait: it retries with a growing delay (at most 4 s) until `signal` aborts.
 */
export async function pollTask(taskId, { onUpdate, signal } = {}) {
  let delay = POLL_INTERVAL_MS;
  for (;;) {
    signal?.throwIfAborted();
    try {
      const status = await call("GET", `/analysis/status/${encodeURIComponent(taskId)}`);
      onUpdate?.(status, { retrying: false });
      if (status.status === "completed" || status.status === "failed") return status;
      delay = status.poll_after_s > 0 ? status.poll_after_s * 1000 : POLL_INTERVAL_MS;
    } catch (error) {
      if (!(error instanceof ApiError) || !error.transient) throw error;
      onUpdate?.(null, { retrying: true });
      delay = Math.min(delay * 2, MAX_RETRY_DELAY_MS);
    }
    await sleep(delay, signal);
  }
}
