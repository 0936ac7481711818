// A random identifier for one action (a vote, a heartbeat, a scan), made once and kept when the
// action is retried, so that the server applies it once: 32 hex digits.

export function clientId() {
  const bytes = new Uint8Array(16);
  crypto.getRandomValues(bytes); // works on plain http too, unlike crypto.randomUUID
  return Array.from(bytes, (byte) => byte.toString(16).padStart(2, "0")).join("");
}
