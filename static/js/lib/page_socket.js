// The page's one Socket.IO connection, shared by its scripts: kept on the window, since the live page's
// bundle (workshop/assets.py) holds its own copy of this module next to presence.js's. The
// socket.io client (static/vendor) is fetched only when a script first asks for the connection, so
// pages that need no live updates never download it. Resolves to null when the client cannot load
// (offline, blocked): callers fall back to plain HTTP.

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
  window.bimtekPageSocket ??= loadClient(src).then((io) => (io ? io(options) : null));
  return window.bimtekPageSocket;
}
