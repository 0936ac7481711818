// Live delivery log of a stage (templates/reminders/stage_log.html).
// The counts come from reminders.json: fetched on every socket (re)connect (Socket.IO does not
// replay missed messages) and on each "deliveries_changed" event, at most once a second; without
// a socket connection the page polls every 10 seconds. The newest version wins.

const root = document.querySelector("[data-deliveries]");
const MIN_GAP_MS = 1000;
const POLL_MS = 10_000;

if (root) {
  const stageId = Number(root.dataset.stageId);
  const snapshotUrl = root.dataset.snapshot;
  const badge = root.querySelector("[data-live-badge]");
  const failuresBody = root.querySelector("[data-failures]");
  const failuresTable = root.querySelector("[data-failures-table]");
  const failuresNone = root.querySelector("[data-failures-none]");
  const retryAll = root.querySelector("[data-retry-all]");
  const channelLabels = JSON.parse(failuresBody?.dataset.channelLabels || "{}");

  let version = 0;
  let lastFetch = 0;
  let pending = null;
  let inFlight = false;
  let again = false;
  let pollTimer = null;

  const pick = (data, path) => path.split(".").reduce((value, key) => (value == null ? value : value[key]), data);

  function cell(text) {
    const td = document.createElement("td");
    td.textContent = text == null ? "" : String(text);
    return td;
  }

  function renderFailures(failures) {
    if (!failuresBody) return;
    const rows = failures.map((failure) => {
      const tr = document.createElement("tr");
      const status = failure.status === "failed" ? failuresBody.dataset.failedText : failuresBody.dataset.retryingText;
      tr.append(
        cell(failure.name),
        cell(channelLabels[failure.channel] || failure.channel),
        cell(status),
        cell(failure.attempts),
        cell(failure.error),
      );
      return tr;
    });
    failuresBody.replaceChildren(...rows);
    if (failuresTable) failuresTable.hidden = failures.length === 0;
    if (failuresNone) failuresNone.hidden = failures.length !== 0;
  }

  function render(data) {
    for (const element of root.querySelectorAll("[data-value]")) {
      const value = pick(data, element.dataset.value);
      if (value != null) element.textContent = String(value);
    }
    renderFailures(data.failures || []);
    if (retryAll) retryAll.hidden = !(data.totals && data.totals.failed);
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
    socket.on("deliveries_changed", (message) => {
      if (!message || message.stage_id === stageId) refresh();
    });
  }
}
