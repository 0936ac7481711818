// The scanner's requests to its API (workshop/checkin/scanner_views.py): JSON with the CSRF token,
// at most a few seconds each. What went wrong decides what the page does: no answer (offline, slow,
// server trouble) -> decide on this device; the login ended -> say so; a refusal -> show it.

import { isJson, jsonRequest } from "../lib/post_json.js";
import { config, T } from "./page.js";

const REQUEST_TIMEOUT_MS = 3000;

export class NetworkError extends Error {}
export class AuthError extends Error {}
export class ApiError extends Error {
  constructor(status, body) {
    super(body.message);
    this.status = status;
    this.body = body;
  }
}

export async function request(url, { method = "GET", body, timeout = REQUEST_TIMEOUT_MS } = {}) {
  if (!navigator.onLine) {
    throw new NetworkError("offline");
  }
  let response;
  try {
    response = await jsonRequest(url, { method, body, csrf: config.csrf, timeoutMs: timeout });
  } catch (error) {
    throw new NetworkError(String(error));
  }
  if (response.redirected) {
    throw new AuthError("login"); // the session ended: the server sent us to the login page
  }
  let data = null;
  if (isJson(response)) {
    try {
      data = await response.json();
    } catch {
      data = null;
    }
  }
  if (response.ok && data) {
    return { status: response.status, body: data };
  }
  if (response.status === 400 && data?.error === "csrf") {
    throw new AuthError("csrf");
  }
  if (response.status >= 400 && response.status < 500 && data?.message) {
    throw new ApiError(response.status, data);
  }
  if (response.status === 403) {
    throw new ApiError(403, { error: "forbidden", message: T.notAllowed });
  }
  throw new NetworkError(`HTTP ${response.status}`); // server trouble: treat as offline
}
