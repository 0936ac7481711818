// Keep a staff page in step with a stage: its numbers come from a JSON snapshot, fetched on every
// socket (re)connect (Socket.IO does not replay missed messages) and on each `event` for the
// stage, at most once a second; without a socket connection the page polls every 10 seconds.
// The newest snapshot version wins. The page's one Socket.IO connection (page_socket.js) loads the
// client from `socketSrc`.

import { fetchSnapshot } from "./fetch_snapshot.js";
import { pageSocket } from "./page_socket.js";

const MIN_GAP_MS = 1000;
const POLL_MS = 10_000;

export const pick = (data, path) =>
  path.split(".").reduce((value, key) => (value == null ? value : value[key]), data);

export function followStage({ stageId, snapshotUrl, socketSrc, event, badge, render }) {
  let version = 0;
  let lastFetch = 0;
  let pending = null; // the timer of a coalesced fetch
  let inFlight = false;
  let again = false;
  let pollTimer = null;

  async function fetchNewest() {
    if (inFlight) {
      again = true;
      return;
    }
    inFlight = true;
    lastFetch = Date.now();
    try {
      const response = await fetchSnapshot(snapshotUrl);
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
      fetchNewest();
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
  pageSocket(socketSrc).then((socket) => {
    if (!socket) return; // no client (offline, blocked): the page polls
    const join = () => {
      socket.emit("join_stage", { stage_id: stageId }, (answer) => {
        setLive(Boolean(answer && answer.ok));
      });
      refresh();
    };
    socket.on("connect", join);
    if (socket.connected) join();
    socket.on("disconnect", () => setLive(false));
    socket.on(event, (message) => {
      if (!message || message.stage_id === stageId) refresh();
    });
  });
  return { refresh };
}
