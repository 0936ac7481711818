// The petugas' check-in scanner for one stage (templates/checkin/scanner.html): the entry module.
//
// Input: the camera (camera.js), a hand-held keyboard-wedge scanner or typed short codes in the code
// field, and search by name or organisation with one-tap check-in (search.js).
// Output: a full-screen green / amber / red result with a beep (feedback.js).
// Offline: the stage's roster is kept on the device (roster.js); when the network is down (or a
// request fails or takes more than 3 s) a scan is decided on this device, marked "offline", and
// queued with its nonce and scan time (queue.js), in IndexedDB (storage.js). The queue survives
// reloads and is sent through the batch endpoint when the network returns (the "online" event, and a
// periodic retry). A service worker (static/js/scanner-sw.js) keeps the page and its files, so that
// it also reloads offline.

import { clientId } from "../lib/client_id.js";
import { ApiError, request } from "./api.js";
import { allowCamera, startCameraControls } from "./camera.js";
import { queuedScanSent, showResult } from "./feedback.js";
import {
  checkInState,
  checkInWindows,
  config,
  el,
  fill,
  focusCodeInput,
  localClock,
  outsideWindow,
  root,
  stageDay,
  T,
} from "./page.js";
import { addToQueue, loadQueue, queued, setOnSent, sync } from "./queue.js";
import {
  forget,
  forgetRoster,
  loadRoster,
  lookup,
  parseTicket,
  refreshRoster,
  remember,
  seenToday,
  showRosterStatus,
} from "./roster.js";
import { startSearch } from "./search.js";
import { handleRequestError, networkOk, online, renderBadges, setStatusSources } from "./status.js";
import { loadSetting, migrateLocalStorage, saveSetting } from "./storage.js";

const RETRY_MS = 15000;
const ROSTER_REFRESH_MS = 120000;

// ---- the desk ------------------------------------------------------------------------------------------

const currentDesk = () => loadSetting("desk", "") || "";
// Scans made before this device's desk has a name: kept (never dropped), checked in once it has one.
const waitingForDesk = [];
// Whether a scan can be recorded now (followCheckInWindows): only then is a desk without a name asked for one.
let scanning = false;

function renderDesk() {
  const desk = currentDesk();
  el.deskName.textContent = desk || "—";
  if (!desk && (scanning || waitingForDesk.length)) {
    el.deskForm.hidden = false;
    el.deskInput.focus();
  }
}

el.deskButton.addEventListener("click", () => {
  el.deskForm.hidden = !el.deskForm.hidden;
  if (!el.deskForm.hidden) {
    el.deskInput.value = currentDesk() || el.deskInput.value;
    el.deskInput.focus();
  }
});

el.deskForm.addEventListener("submit", (event) => {
  event.preventDefault();
  const desk = el.deskInput.value.trim().slice(0, config.limits.desk);
  if (!desk) {
    return;
  }
  saveSetting("desk", desk);
  el.deskForm.hidden = true;
  renderDesk();
  el.deskWaiting.hidden = true;
  for (const { code, method } of waitingForDesk.splice(0)) {
    handleScan(code, method);
  }
  focusCodeInput();
});

// ---- a scan --------------------------------------------------------------------------------------------

let processing = false;

setStatusSources({ waiting: () => queued().length, onLoginEnded: forgetRoster });

// The server's answer to a scan sent from the queue: what this device knows follows it.
setOnSent((item, answer) => {
  const registrationId = item.local?.registrationId;
  if (!answer || registrationId == null) {
    return;
  }
  if (answer.first && (answer.colour === "green" || answer.colour === "amber")) {
    remember(registrationId, { time: answer.first.time, desk: answer.first.desk, checkInId: answer.check_in_id });
  } else if (item.local.colour === "green") {
    forget(registrationId); // the server refused what this device let in
  }
  queuedScanSent(item.nonce, answer, registrationId);
});
// What the device kept, read before the first scan is decided.
const loaded = (async () => {
  await migrateLocalStorage(); // once: what an older version kept in localStorage
  await loadQueue();
  await loadRoster();
})();

function decideLocally(scan, found) {
  const scannedAt = new Date(scan.scanned_at);
  const { parsed, entry } = found;
  if (!entry) {
    return parsed
      ? { colour: "amber", result: "not_on_device", message: T.notOnDevice, person: null }
      : { colour: "red", result: "unknown_code", message: T.unknownCode, person: null };
  }
  const person = { name: entry.name, position: entry.position, organization: entry.organization };
  if (!checkInWindows.some(([opens, closes]) => opens <= scannedAt && scannedAt < closes)) {
    return { ...outsideWindow(scannedAt), person };
  }
  const first = seenToday()[entry.id];
  if (first) {
    return { colour: "amber", result: "already_checked_in", message: fill(T.already, first), person, first };
  }
  const modeChanged = entry.mode === "daring";
  return {
    colour: "green",
    result: modeChanged ? "ok_mode_changed" : "ok",
    message: modeChanged ? T.okModeChanged : T.ok,
    person,
    first: { time: localClock(scannedAt), desk: scan.desk },
  };
}

async function queueScan(scan, decided, registrationId) {
  const local = {
    colour: decided.colour,
    registrationId,
    day: stageDay(new Date(scan.scanned_at)),
    first: decided.first || null,
  };
  await addToQueue({ ...scan, local });
  if (decided.colour === "green") {
    remember(registrationId, decided.first);
  }
}

let scanChain = Promise.resolve();

function handleScan(code, method) {
  // One scan at a time, in the order they came (a hand-held scanner can be faster than the network).
  const run = scanChain.then(() => processScan(code, method));
  scanChain = run.catch(() => {});
  return run;
}

async function processScan(code, method) {
  await loaded;
  const text = (code || "").trim();
  if (!text) {
    return;
  }
  const desk = currentDesk();
  if (!desk) {
    waitingForDesk.push({ code: text, method });
    const codes = waitingForDesk.map((scan) => (parseTicket(scan.code)?.kind === "secret" ? "QR" : scan.code));
    el.deskWaiting.textContent = fill(T.deskFirst, { codes: codes.join(", ") });
    el.deskWaiting.hidden = false;
    renderDesk();
    return;
  }
  processing = true;
  const scan = { code: text, desk, nonce: clientId(), scanned_at: new Date().toISOString(), method };
  const found = lookup(text);
  const registrationId = found.entry ? found.entry.id : null;
  try {
    const { body } = await request(config.urls.checkin, { method: "POST", body: scan });
    networkOk(true);
    if (body.first && (body.colour === "green" || body.colour === "amber")) {
      remember(registrationId, { time: body.first.time, desk: body.first.desk, checkInId: body.check_in_id });
    }
    const undo =
      body.colour === "green" && body.check_in_id && body.undo_until
        ? { checkInId: body.check_in_id, until: body.undo_until, registrationId }
        : null;
    showResult({ ...body, offline: false, undo });
    sync();
  } catch (error) {
    if (error instanceof ApiError) {
      showResult({ colour: "red", result: error.body.error || "error", message: error.message, person: null });
    } else {
      // No answer (offline, slow, server trouble, or the login ended): decide here, send later.
      handleRequestError(error);
      const decided = decideLocally(scan, found);
      await queueScan(scan, decided, registrationId);
      const undo = decided.colour === "green" ? { nonce: scan.nonce, scan, registrationId } : null;
      showResult({ ...decided, offline: true, undo });
    }
  } finally {
    processing = false;
  }
}

el.codeForm.addEventListener("submit", (event) => {
  event.preventDefault();
  const value = el.codeInput.value;
  el.codeInput.value = "";
  // A whole QR payload comes from a scanner (a hand-held one types it here); short codes are typed.
  const parsed = parseTicket(value);
  handleScan(value, parsed?.kind === "secret" ? "camera" : "typed");
});

// ---- reloading offline: the service worker ---------------------------------------------------------

async function startServiceWorker() {
  // The worker keeps the pages and files it sees loading, but a first load happens before it exists:
  // tell it which URLs to keep (this page, the files it loaded, the camera decoder it may load later).
  if (!("serviceWorker" in navigator)) {
    return;
  }
  const controlled = Boolean(navigator.serviceWorker.controller); // then the worker saw this load
  try {
    await navigator.serviceWorker.register(root.dataset.serviceWorker, { scope: root.dataset.serviceWorkerScope });
    const registration = await navigator.serviceWorker.ready;
    const files = performance
      .getEntriesByType("resource")
      .map((entry) => entry.name)
      .filter((url) => new URL(url).origin === location.origin);
    const decoder = [config.urls.barcodeDetector, config.urls.barcodeDetectorCore, config.urls.zxingWasm].map(
      (url) => new URL(url, location.href).href,
    );
    const urls = controlled ? decoder : [location.href, ...files, ...decoder];
    const channel = new MessageChannel();
    const answered = new Promise((resolve) => {
      channel.port1.onmessage = (event) => resolve(event.data?.ok === true);
    });
    registration.active.postMessage({ type: "cache", urls }, [channel.port2]);
    root.dataset.offlineReady = String(await answered);
  } catch {
    root.dataset.offlineReady = "false"; // e.g. a private window: the page works, but not after an offline reload
  }
}

// ---- whether a scan can be recorded now ---------------------------------------------------------------

const HOUR_MS = 3600000;

// Outside the stage's check-in windows the server records no scan: the page says why and until when, and
// offers no code field nor camera (the queue, the undo and the search stay), nor asks for the desk's name
// (none once the stage's last check-in has closed). Followed by this device's clock, as its offline
// decisions are.
function followCheckInWindows() {
  const now = Date.now();
  const { state, text, next } = checkInState(now);
  const open = state === "open";
  const opened = open && !scanning;
  scanning = open;
  root.dataset.checkIn = state;
  el.closed.textContent = text;
  el.closed.hidden = open;
  el.codeForm.hidden = !open;
  el.camera.hidden = !open;
  el.deskButton.hidden = state === "after";
  allowCamera(open);
  if (opened) {
    loaded.then(renderDesk); // a desk without a name is asked for it once scanning is possible
  }
  if (next !== null) {
    setTimeout(followCheckInWindows, Math.min(next - now, HOUR_MS) + 50);
  }
}

// ---- start -------------------------------------------------------------------------------------------

followCheckInWindows();

el.queue.addEventListener("click", () => sync());
window.addEventListener("online", () => {
  online();
  sync();
  refreshRoster();
});
window.addEventListener("offline", renderBadges);

async function start() {
  await loaded;
  renderDesk();
  renderBadges();
  showRosterStatus(false);
  focusCodeInput();
  startSearch(handleScan);
  startCameraControls(
    (text) => handleScan(text, "camera"),
    () => processing,
  );
  await refreshRoster();
  root.dataset.state = "ready";
  sync();
}

start();
if (navigator.onLine) {
  startServiceWorker();
}
setInterval(sync, RETRY_MS);
setInterval(refreshRoster, ROSTER_REFRESH_MS);
