// The page's one Socket.IO connection, shared by its scripts (ES modules load once per page). The
// socket.io client (static/vendor) is fetched only when a script first asks for the connection, so
// pages that need no live updates never download it. Resolves to null when the client cannot load
// (offline, blocked): callers fall back to plain HTTP.

let connection = null;

function loadClient(src) {
  if (typeof window.io === "function") return Promise.resolve(window.io);
  return new Promise((resolve) => {
    const script = document.createElement("script");
    script.src = src;
    script.addEventListener("load", () => resolve(typeof window.io === "function" ? window.io : null));
    script.addEventListener("error", () => resolve(null));
    document.head.append(script);
  });
}

export function pageSocket(src, options = {}) {
  connection ??= loadClient(src).then((io) => (io ? io(options) : null));
  return connection;
}

/** "2026-06-24T01:30:00Z/2026-06-24T10:00:00Z ..." -> [[start ms, end ms], ...] */
export function parseWindows(text) {
  return (text || "")
    .split(" ")
    .filter(Boolean)
    .map((span) => span.split("/").map((moment) => Date.parse(moment)));
}

export function within(windows, now = Date.now()) {
  return windows.some(([start, end]) => start <= now && now <= end);
}

/** Milliseconds until the next window opens, or null when none is ahead. */
export function untilNext(windows, now = Date.now()) {
  const ahead = windows.map(([start]) => start - now).filter((wait) => wait > 0);
  return ahead.length ? Math.min(...ahead) : null;
}
