// The page's state lines: the network badge, the number of scans waiting, and the alert (the login
// has ended). What went wrong with a request decides what they say.

import { AuthError, NetworkError } from "./api.js";
import { el, fill, T } from "./page.js";

let countWaiting = () => 0;
let loginEnded = () => {};

/** How to count the scans waiting, and what to do when the login has ended (main.js says). */
export function setStatusSources({ waiting, onLoginEnded }) {
  countWaiting = waiting;
  loginEnded = onLoginEnded;
}

export function handleRequestError(error) {
  if (error instanceof AuthError) {
    loginEnded(); // the queue stays: it is sent after the next login
    showAlert(T.sessionExpired, true);
  } else if (error instanceof NetworkError) {
    networkOk(false);
  }
}

export function showAlert(text, login = false) {
  el.alertText.textContent = text;
  el.alertLogin.hidden = !login;
  el.alert.hidden = !text;
}

let lastRequestOk = true;

/** Back online: the next request tells whether the server answers. */
export function online() {
  lastRequestOk = true;
  renderBadges();
}

export function networkOk(ok) {
  lastRequestOk = ok;
  renderBadges();
}

export function renderBadges() {
  const online = navigator.onLine && lastRequestOk;
  el.net.dataset.net = online ? "online" : "offline";
  el.net.textContent = online ? T.online : T.offline;
  const waiting = countWaiting();
  el.queue.hidden = waiting === 0;
  el.queue.textContent = fill(T.waiting, { n: waiting });
  el.queue.dataset.count = String(waiting);
}
