// The server's clock as this device sees it, for countdowns: a phone's clock may be minutes off.
// The live client sets the offset from each fetched snapshot's server_time.

// How far the server's clock is ahead of this device's (a phone's clock may be minutes off):
// countdowns run on the server's time.
let serverClockOffsetMs = 0;

/** Take the server's time from a snapshot (an ISO moment). */
export function setServerTime(iso) {
  serverClockOffsetMs = Date.parse(iso) - Date.now();
}

/** The server's time now, in milliseconds since the epoch. */
export function serverNow() {
  return Date.now() + serverClockOffsetMs;
}

/** Remaining whole seconds until an ISO moment, never negative. */
export function secondsUntil(iso) {
  return Math.max(0, Math.ceil((Date.parse(iso) - (Date.now() + serverClockOffsetMs)) / 1000));
}

export function clock(seconds) {
  const minutes = Math.floor(seconds / 60);
  const rest = String(seconds % 60).padStart(2, "0");
  return `${minutes}:${rest}`;
}
