// A page's JSON snapshot (the live state, the dashboard's figures, the delivery log): fetched fresh
// every time, never from the browser's cache. The caller keeps the newest version it has seen.

export function fetchSnapshot(url) {
  return fetch(url, {
    headers: { Accept: "application/json" },
    credentials: "same-origin",
    cache: "no-store",
  });
}
