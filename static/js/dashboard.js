// Live attendance numbers of a stage (templates/reports/dashboard.html).
// The numbers come from dashboard.json: fetched on every socket (re)connect (Socket.IO does not
// replay missed messages) and on each "attendance_changed" event, at most once a second; without
// a socket connection the page polls every 10 seconds. The newest version wins.

const root = document.querySelector("[data-dashboard]");
const MIN_GAP_MS = 1000;
const POLL_MS = 10_000;

if (root) {
  const stageId = Number(root.dataset.stageId);
  const snapshotUrl = root.dataset.snapshot;
  const badge = root.querySelector("[data-live-badge]");
  const updated = root.querySelector("[data-updated]");
  const clock = new Intl.DateTimeFormat("id-ID", {
    hour: "2-digit",
    minute: "2-digit",
    second: "2-digit",
    hourCycle: "h23",
    timeZone: root.dataset.timezone || undefined,
  });

  let version = 0;
  let lastFetch = 0;
  let pending = null; // the timer of a coalesced fetch
  let inFlight = false;
  let again = false;
  let pollTimer = null;

  const pick = (data, path) => path.split(".").reduce((value, key) => (value == null ? value : value[key]), data);

  function render(data) {
    for (const element of root.querySelectorAll("[data-value]")) {
      const value = pick(data, element.dataset.value);
      if (value != null) element.textContent = String(value);
    }
    const participants = data.participants || 0;
    for (const bar of root.querySelectorAll("[data-bar]")) {
      const count = pick(data, `by_status.${bar.dataset.bar}`) || 0;
      const width = participants ? (100 * count) / participants : 0;
      bar.setAttribute("width", width.toFixed(2)); // an SVG attribute, not a style (strict CSP)
    }
    if (updated && data.generated_at) {
      updated.textContent = clock.format(new Date(data.generated_at)).replaceAll(":", ".");
      updated.setAttribute("datetime", data.generated_at);
    }
  }

  async function fetchSnapshot() {
    if (inFlight) {
      again = true;
      return;
    }
    inFlight = true;
    lastFetch = Date.now();
    try {
      const response = await fetch(snapshotUrl, {
        headers: { Accept: "application/json" },
        credentials: "same-origin",
        cache: "no-store",
      });
      if (response.ok) {
        const data = await response.json();
        if (data.version >= version) {
          version = data.version;
          render(data);
        }
      }
    } catch {
      // offline for a moment: the next event, reconnect or poll fetches again
    } finally {
      inFlight = false;
      if (again) {
        again = false;
        refresh();
      }
    }
  }

  // Coalesce: many events within a second give one fetch.
  function refresh() {
    if (pending !== null) return;
    const wait = Math.max(0, lastFetch + MIN_GAP_MS - Date.now());
    pending = setTimeout(() => {
      pending = null;
      fetchSnapshot();
    }, wait);
  }

  function setLive(live) {
    if (badge) {
      badge.classList.toggle("is-live", live);
      badge.textContent = live ? badge.dataset.liveText : badge.dataset.pollText;
    }
    if (live && pollTimer !== null) {
      clearInterval(pollTimer);
      pollTimer = null;
    } else if (!live && pollTimer === null) {
      pollTimer = setInterval(refresh, POLL_MS);
    }
  }

  setLive(false);
  if (typeof window.io === "function") {
    const socket = window.io();
    socket.on("connect", () => {
      socket.emit("join_stage", { stage_id: stageId }, (answer) => {
        setLive(Boolean(answer && answer.ok));
      });
      refresh();
    });
    socket.on("disconnect", () => setLive(false));
    socket.on("attendance_changed", (message) => {
      if (!message || message.stage_id === stageId) refresh();
    });
  }
}
