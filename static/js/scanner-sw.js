// The check-in scanner's service worker (served as /checkin/sw.js, scope /checkin/), so that a desk
// whose network dropped can reload the scanner page and keep scanning (static/js/scanner/ keeps the
// roster and the queue of scans in localStorage; this worker only keeps the page and its files).
//
// - Scanner pages (navigations under /checkin/stages/): network first; the cached copy when the
//   network fails or does not answer within a few seconds. Each page loaded online is cached.
// - Static files (/static/...): the cached copy at once if there is one. Hashed names (/static/dist/,
//   see workshop/assets.py) never change, so that is all; a name without a hash is refreshed in the
//   background, so that a deploy's new file arrives on the next load.
// - Everything else, the JSON API above all, is left to the network: when it fails, the page's own
//   offline path runs. Nothing else is ever cached (the roster holds ticket secrets).
// The page sends the URLs it uses ({type: "cache", urls}) once this worker controls it, because its
// first load happens before the worker exists; the worker answers on the message's port.

const CACHE = "bh-scanner-v1";
const NETWORK_TIMEOUT_MS = 4000;
const isPage = (url) => url.origin === self.location.origin && url.pathname.startsWith("/checkin/stages/");
const isStatic = (url) => url.origin === self.location.origin && url.pathname.startsWith("/static/");
const isHashed = (url) => url.pathname.startsWith("/static/dist/");
// Only a complete, same-origin answer is kept: never a redirect (e.g. to the login page) or an error.
const keepable = (response) => response.ok && response.type === "basic" && !response.redirected;

self.addEventListener("install", () => self.skipWaiting());

self.addEventListener("activate", (event) => {
  // Drop the caches of older versions of this worker, and take over the open scanner pages.
  const old = caches.keys().then((keys) => Promise.all(keys.filter((k) => k !== CACHE).map((k) => caches.delete(k))));
  event.waitUntil(old.then(() => self.clients.claim()));
});

async function store(request, response) {
  if (keepable(response)) {
    const cache = await caches.open(CACHE);
    await cache.put(request, response.clone());
  }
  return response;
}

async function networkFirst(request) {
  const network = fetch(request).then((response) => store(request, response));
  const timeout = new Promise((_resolve, reject) => setTimeout(() => reject(new Error("timeout")), NETWORK_TIMEOUT_MS));
  try {
    return await Promise.race([network, timeout]);
  } catch {
    const cached = await caches.match(request, { ignoreSearch: true });
    if (cached) {
      return cached;
    }
    return network; // never loaded online on this device: the browser's own offline error (or a late answer)
  }
}

async function cacheFirst(event) {
  const cached = await caches.match(event.request);
  if (cached && isHashed(new URL(event.request.url))) {
    return cached;
  }
  const network = fetch(event.request).then((response) => store(event.request, response));
  if (cached) {
    event.waitUntil(network.catch(() => undefined)); // refresh it for next time; offline: keep the old copy
    return cached;
  }
  return network;
}

self.addEventListener("fetch", (event) => {
  const url = new URL(event.request.url);
  if (event.request.method !== "GET") {
    return; // POSTs (scans, undo) always go to the network
  }
  if (event.request.mode === "navigate" && isPage(url)) {
    event.respondWith(networkFirst(event.request));
  } else if (isStatic(url)) {
    event.respondWith(cacheFirst(event));
  }
});

self.addEventListener("message", (event) => {
  if (event.data?.type !== "cache" || !Array.isArray(event.data.urls)) {
    return;
  }
  const urls = event.data.urls.map((u) => new URL(u, self.location.href)).filter((u) => isPage(u) || isStatic(u));
  const done = Promise.all(
    urls.map((url) => fetch(url, { credentials: "same-origin" }).then((response) => store(url.href, response))),
  );
  const reply = (ok) => event.ports[0]?.postMessage({ ok });
  event.waitUntil(done.then(() => reply(true), () => reply(false)));
});
