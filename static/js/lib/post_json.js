// JSON requests to our own endpoints: the session cookie, the CSRF token in X-CSRFToken (as
// Flask-WTF expects), JSON both ways, and an optional time limit (a network that died without the
// phone noticing gives up instead of hanging). The caller reads the response.

/** The page's CSRF token (templates/base.html's csrf-token meta tag). */
export function csrfToken() {
  const meta = document.querySelector('meta[name="csrf-token"]');
  return meta ? meta.content : "";
}

/** Whether a response carries JSON (a redirect to the login page, or a proxy's error page, does not). */
export function isJson(response) {
  return (response.headers.get("Content-Type") || "").includes("json");
}

function timeLimit(timeoutMs) {
  if (!timeoutMs) return undefined;
  if (typeof AbortSignal.timeout === "function") return AbortSignal.timeout(timeoutMs);
  const controller = new AbortController();
  setTimeout(() => controller.abort(), timeoutMs);
  return controller.signal;
}

/** A request with a JSON body (when `body` is given) that asks for JSON back. */
export function jsonRequest(url, { method = "GET", body, csrf = csrfToken(), timeoutMs = 0 } = {}) {
  return fetch(url, {
    method,
    credentials: "same-origin",
    headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRFToken": csrf },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: timeLimit(timeoutMs),
  });
}

export function postJson(url, body, options = {}) {
  return jsonRequest(url, { ...options, method: "POST", body });
}
