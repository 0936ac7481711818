// The petugas' check-in scanner for one stage (templates/checkin/scanner.html).
//
// Input: the camera (the native BarcodeDetector where it reads QR codes, otherwise the
// barcode-detector polyfill from static/vendor), a hand-held keyboard-wedge scanner or typed short
// codes in the code field, and search by name or organisation with one-tap check-in.
// Output: a full-screen green / amber / red result with a beep, back to scanning within a second.
// Offline: the stage's roster is kept in localStorage; when the network is down (or a request fails
// or takes more than 3 s) a scan is decided on this device, marked "offline", and queued in
// localStorage with its nonce and scan time. The queue survives reloads and is sent through the
// batch endpoint when the network returns (the "online" event, and a periodic retry); the server
// keeps the earliest scan and counts a nonce once, so sending twice is harmless. A service worker
// (static/js/scanner-sw.js) keeps the page and its files, so that it also reloads offline.

import { clientId } from "./lib/client_id.js";
import { pageConfig } from "./lib/page_config.js";
import { isJson, jsonRequest } from "./lib/post_json.js";

const config = pageConfig(document.getElementById("scanner-config"));
const T = config.texts;
const STAGE = config.stageId;
const KEYS = {
  desk: "bh.scanner.desk",
  camera: "bh.scanner.camera",
  roster: `bh.scanner.roster.${STAGE}`,
  queue: `bh.scanner.queue.${STAGE}`,
  seen: `bh.scanner.seen.${STAGE}`,
};
const REQUEST_TIMEOUT_MS = 3000;
const SYNC_TIMEOUT_MS = 20000;
const RETRY_MS = 15000;
const ROSTER_REFRESH_MS = 120000;
const BATCH_SIZE = config.limits.batch;
const SHOW_MS = { green: 1000, amber: 3000, red: 3000 };
const CAMERA_INTERVAL_MS = 150;
// As workshop/checkin/tickets.py parses tickets, and as many results as the server's search gives.
const QR_PREFIX = config.tickets.qrPrefix;
const SECRET_ALPHABET = config.tickets.secretAlphabet;
const CODE_ALPHABET = SECRET_ALPHABET.toUpperCase();
const SECRET_LENGTH = config.tickets.secretLength;
const CODE_LENGTH = config.tickets.codeLength;
const SEARCH_LIMIT = config.limits.searchResults;

const $ = (selector, root = document) => root.querySelector(selector);
const root = $("[data-scanner]");
const el = {
  net: $("[data-testid=network-badge]"),
  queue: $("[data-testid=queue-count]"),
  deskButton: $("[data-testid=desk-button]"),
  deskName: $("[data-desk-name]"),
  deskForm: $("#desk-form"),
  deskInput: $("#desk-input"),
  deskWaiting: $("[data-desk-waiting]"),
  codeForm: $("#code-form"),
  codeInput: $("#code-input"),
  camera: $("[data-camera]"),
  cameraToggle: $("#camera-toggle"),
  cameraFrame: $(".camera-frame"),
  video: $("#camera-video"),
  cameraMessage: $("[data-camera-message]"),
  searchInput: $("#search-input"),
  searchNote: $("[data-search-note]"),
  searchResults: $("#search-results"),
  lastScan: $("[data-testid=last-scan]"),
  lastText: $("[data-last-text]"),
  lastUndo: $("[data-testid=last-undo]"),
  rosterStatus: $("[data-testid=roster-status]"),
  alert: $("[data-testid=scanner-alert]"),
  alertText: $("[data-alert-text]"),
  alertLogin: $("[data-alert-login]"),
  result: $("#result"),
  resultOffline: $("[data-testid=result-offline]"),
  resultMessage: $("[data-testid=result-message]"),
  resultName: $("[data-testid=result-name]"),
  resultPosition: $("[data-testid=result-position]"),
  resultOrganization: $("[data-testid=result-organization]"),
  resultNote: $("[data-testid=result-note]"),
  resultUndo: $("[data-testid=result-undo]"),
};

const fill = (text, values) => text.replace(/\{(\w+)\}/g, (match, key) => (key in values ? values[key] : match));

// ---- storage ---------------------------------------------------------------------------------------

function load(key, fallback) {
  try {
    const text = localStorage.getItem(key);
    return text === null ? fallback : JSON.parse(text);
  } catch {
    return fallback;
  }
}

function save(key, value) {
  try {
    localStorage.setItem(key, JSON.stringify(value));
    return true;
  } catch {
    return false; // storage full or disabled: the page still works online
  }
}

const loadQueue = () => {
  const queue = load(KEYS.queue, []);
  return Array.isArray(queue) ? queue : [];
};

// ---- time in the programme's time zone ------------------------------------------------------------

const zone = config.stage.timezone;
const dayParts = new Intl.DateTimeFormat("en-CA", { timeZone: zone, year: "numeric", month: "2-digit", day: "2-digit" });
// The page's language sets the clock, as on the server: 09.00 (id), 09:00 (en); then the zone, "WIB".
const clock = new Intl.DateTimeFormat(document.documentElement.lang || "id", {
  timeZone: zone,
  hour: "2-digit",
  minute: "2-digit",
  hourCycle: "h23",
});

function part(formatter, date, type) {
  return formatter.formatToParts(date).find((p) => p.type === type).value;
}

const localDay = (date) => `${part(dayParts, date, "year")}-${part(dayParts, date, "month")}-${part(dayParts, date, "day")}`;
const localClock = (date) => `${clock.format(date)} ${config.stage.zone}`;

// When the hall check-in of each day is open: [opens, closes) in milliseconds (as services.py decides).
const checkInWindows = config.stage.windows.map((span) => span.map((moment) => Date.parse(moment)));

function outsideWindow(at) {
  const today = localDay(at);
  const opening = checkInWindows.find(([opens]) => at < opens && localDay(new Date(opens)) === today);
  if (opening) {
    return { colour: "amber", result: "too_early", message: fill(T.tooEarly, { time: localClock(new Date(opening[0])) }) };
  }
  const ended = [...checkInWindows].reverse().find(([, closes]) => at >= closes && localDay(new Date(closes)) === today);
  if (ended) {
    return { colour: "red", result: "day_ended", message: fill(T.dayEnded, { time: localClock(new Date(ended[1])) }) };
  }
  return { colour: "red", result: "wrong_day", message: T.wrongDay };
}

// ---- tickets (as workshop/checkin/tickets.py parses them) -----------------------------------------

const isSecret = (value) => value.length === SECRET_LENGTH && [...value].every((c) => SECRET_ALPHABET.includes(c));

function parseTicket(text) {
  const cleaned = (text || "").trim();
  if (cleaned.toUpperCase().startsWith(QR_PREFIX)) {
    const secret = cleaned.slice(QR_PREFIX.length).toLowerCase();
    return isSecret(secret) ? { kind: "secret", value: secret } : null;
  }
  if (isSecret(cleaned.toLowerCase())) {
    return { kind: "secret", value: cleaned.toLowerCase() };
  }
  const code = cleaned.toUpperCase().replace(/[-\s]/g, "");
  if (code.length === CODE_LENGTH && [...code].every((c) => CODE_ALPHABET.includes(c))) {
    return { kind: "code", value: code };
  }
  return null;
}

// ---- the roster and what this device knows was checked in today -----------------------------------

let roster = load(KEYS.roster, null);
let index = { bySecret: new Map(), byCode: new Map(), byId: new Map() };
let seen = load(KEYS.seen, null); // {day, entries: {registrationId: {time, desk, checkInId}}}

function rebuildIndex() {
  index = { bySecret: new Map(), byCode: new Map(), byId: new Map() };
  for (const entry of roster?.registrations || []) {
    index.bySecret.set(entry.secret, entry);
    index.byCode.set(entry.code, entry);
    index.byId.set(entry.id, entry);
  }
}

function lookup(code) {
  const parsed = parseTicket(code);
  if (!parsed) {
    return { parsed: null, entry: null };
  }
  const entry = (parsed.kind === "secret" ? index.bySecret : index.byCode).get(parsed.value) || null;
  return { parsed, entry };
}

function seenToday() {
  const today = localDay(new Date());
  if (!seen || seen.day !== today) {
    seen = { day: today, entries: {} };
  }
  return seen.entries;
}

function remember(registrationId, first) {
  if (registrationId == null) {
    return;
  }
  seenToday()[registrationId] = first;
  save(KEYS.seen, seen);
}

function forget(registrationId) {
  if (registrationId == null) {
    return;
  }
  delete seenToday()[registrationId];
  save(KEYS.seen, seen);
}

function mergeRosterCheckIns() {
  if (stageEnded()) {
    forgetRoster();
    return;
  }
  // The server's check-ins of today, plus this device's offline check-ins it has not sent yet.
  const today = localDay(new Date());
  const entries = roster && roster.day === today ? { ...roster.check_ins } : {};
  for (const item of loadQueue()) {
    if (item.local?.colour === "green" && item.local.day === today) {
      entries[item.local.registrationId] = item.local.first;
    }
  }
  seen = { day: today, entries };
  save(KEYS.seen, seen);
}

function showRosterStatus(stale) {
  const count = roster?.registrations?.length || 0;
  let text = fill(T.rosterCount, { n: count });
  if (stale && roster?.generated_at) {
    text += ` ${fill(T.rosterStale, { time: localClock(new Date(roster.generated_at)) })}`;
  }
  el.rosterStatus.textContent = text;
  el.rosterStatus.dataset.count = String(count);
  el.rosterStatus.dataset.version = roster?.version || "";
}

// The roster names every participant of the stage: kept on this device only until the stage ends (or
// the user logs out: static/js/app.js), and dropped when the login has ended.
const stageEnded = () => localDay(new Date()) > config.stage.days[config.stage.days.length - 1];

function forgetRoster() {
  try {
    localStorage.removeItem(KEYS.roster);
    localStorage.removeItem(KEYS.seen);
  } catch {
    // storage disabled: nothing kept
  }
}

async function refreshRoster() {
  let stale = false;
  try {
    const { body } = await request(config.urls.roster);
    roster = body;
    if (!stageEnded()) {
      save(KEYS.roster, roster);
    }
    rebuildIndex();
    mergeRosterCheckIns();
    networkOk(true);
  } catch (error) {
    stale = true;
    handleRequestError(error);
  }
  showRosterStatus(stale);
}

// ---- requests ----------------------------------------------------------------------------------------

class NetworkError extends Error {}
class AuthError extends Error {}
class ApiError extends Error {
  constructor(status, body) {
    super(body.message);
    this.status = status;
    this.body = body;
  }
}

async function request(url, { method = "GET", body, timeout = REQUEST_TIMEOUT_MS } = {}) {
  if (!navigator.onLine) {
    throw new NetworkError("offline");
  }
  let response;
  try {
    response = await jsonRequest(url, { method, body, csrf: config.csrf, timeoutMs: timeout });
  } catch (error) {
    throw new NetworkError(String(error));
  }
  if (response.redirected) {
    throw new AuthError("login"); // the session ended: the server sent us to the login page
  }
  let data = null;
  if (isJson(response)) {
    try {
      data = await response.json();
    } catch {
      data = null;
    }
  }
  if (response.ok && data) {
    return { status: response.status, body: data };
  }
  if (response.status === 400 && data?.error === "csrf") {
    throw new AuthError("csrf");
  }
  if (response.status >= 400 && response.status < 500 && data?.message) {
    throw new ApiError(response.status, data);
  }
  if (response.status === 403) {
    throw new ApiError(403, { error: "forbidden", message: T.notAllowed });
  }
  throw new NetworkError(`HTTP ${response.status}`); // server trouble: treat as offline
}

function handleRequestError(error) {
  if (error instanceof AuthError) {
    forgetRoster(); // the queue stays: it is sent after the next login
    showAlert(T.sessionExpired, true);
  } else if (error instanceof NetworkError) {
    networkOk(false);
  }
}

function showAlert(text, login = false) {
  el.alertText.textContent = text;
  el.alertLogin.hidden = !login;
  el.alert.hidden = !text;
}

let lastRequestOk = true;

function networkOk(ok) {
  lastRequestOk = ok;
  renderBadges();
}

function renderBadges() {
  const online = navigator.onLine && lastRequestOk;
  el.net.dataset.net = online ? "online" : "offline";
  el.net.textContent = online ? T.online : T.offline;
  const waiting = loadQueue().length;
  el.queue.hidden = waiting === 0;
  el.queue.textContent = fill(T.waiting, { n: waiting });
  el.queue.dataset.count = String(waiting);
}

// ---- the desk ------------------------------------------------------------------------------------------

const currentDesk = () => load(KEYS.desk, "") || "";
// Scans made before this device's desk has a name: kept (never dropped), checked in once it has one.
const waitingForDesk = [];

function renderDesk() {
  const desk = currentDesk();
  el.deskName.textContent = desk || "—";
  if (!desk) {
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
  save(KEYS.desk, desk);
  el.deskForm.hidden = true;
  renderDesk();
  el.deskWaiting.hidden = true;
  for (const { code, method } of waitingForDesk.splice(0)) {
    handleScan(code, method);
  }
  focusCodeInput();
});

// ---- sound ---------------------------------------------------------------------------------------------

let audio = null;
const TONES = { green: [[880, 0.12]], amber: [[600, 0.1], [600, 0.1]], red: [[220, 0.4]] };

function wakeAudio() {
  // Browsers start sound only after a tap or a key press on the page.
  const Context = window.AudioContext || window.webkitAudioContext;
  if (!audio && Context) {
    audio = new Context();
  }
  if (audio && audio.state === "suspended") {
    audio.resume().catch(() => {});
  }
}

document.addEventListener("pointerdown", wakeAudio);
document.addEventListener("keydown", wakeAudio);

function beep(colour) {
  if (!audio || audio.state !== "running") {
    return;
  }
  let at = audio.currentTime;
  for (const [frequency, length] of TONES[colour] || []) {
    const oscillator = audio.createOscillator();
    const gain = audio.createGain();
    oscillator.type = colour === "red" ? "square" : "sine";
    oscillator.frequency.value = frequency;
    gain.gain.setValueAtTime(0.25, at);
    gain.gain.exponentialRampToValueAtTime(0.001, at + length);
    oscillator.connect(gain).connect(audio.destination);
    oscillator.start(at);
    oscillator.stop(at + length);
    at += length + 0.06;
  }
}

// ---- the result screen ------------------------------------------------------------------------------

let hideTimer = null;
let undoTarget = null; // {checkInId, until, registrationId} or {nonce, registrationId} (still queued)

function showResult(shown) {
  const person = shown.person || {};
  el.result.dataset.colour = shown.colour;
  el.result.dataset.result = shown.result;
  el.resultOffline.hidden = !shown.offline;
  el.resultMessage.textContent = shown.message;
  el.resultName.textContent = person.name || "";
  el.resultPosition.textContent = person.position || "";
  el.resultOrganization.textContent = person.organization || "";
  el.resultNote.textContent = shown.offline ? T.savedOffline : "";
  undoTarget = shown.undo || null;
  el.resultUndo.hidden = !undoTarget;
  el.result.hidden = false;
  beep(shown.colour);
  clearTimeout(hideTimer);
  hideTimer = setTimeout(hideResult, SHOW_MS[shown.colour] || 3000);

  el.lastScan.hidden = false;
  el.lastScan.dataset.colour = shown.colour;
  el.lastText.textContent = [person.name, shown.message].filter(Boolean).join(" — ");
  el.lastUndo.hidden = !undoTarget;
}

function hideResult() {
  clearTimeout(hideTimer);
  el.result.hidden = true;
  focusCodeInput();
}

el.result.addEventListener("click", (event) => {
  if (!event.target.closest("[data-undo]")) {
    hideResult();
  }
});

async function undo() {
  const target = undoTarget;
  if (!target) {
    return;
  }
  if (target.nonce) {
    await syncDone; // the scan may be on its way to the server right now
    if (undoTarget !== target) {
      return undo(); // it arrived: undo it on the server
    }
    // Still waiting on this device: take it out of the queue before it is sent.
    const queue = loadQueue();
    const kept = queue.filter((item) => item.nonce !== target.nonce);
    if (kept.length !== queue.length) {
      save(KEYS.queue, kept);
      finishUndo(target);
    }
    return;
  }
  try {
    await request(fill(config.urls.undo, { id: target.checkInId }), { method: "POST", body: {} });
    finishUndo(target);
  } catch (error) {
    handleRequestError(error);
    el.lastText.textContent = error instanceof ApiError ? error.message : T.undoFailed;
    el.lastUndo.hidden = true;
    undoTarget = null;
  }
}

function finishUndo(target) {
  forget(target.registrationId);
  undoTarget = null;
  el.result.hidden = true;
  el.lastUndo.hidden = true;
  el.lastText.textContent = T.undone;
  el.lastScan.dataset.colour = "";
  renderBadges();
  focusCodeInput();
}

for (const button of [el.resultUndo, el.lastUndo]) {
  button.addEventListener("click", (event) => {
    event.stopPropagation();
    undo();
  });
}

// ---- a scan --------------------------------------------------------------------------------------------

let processing = false;

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

function queueScan(scan, decided, registrationId) {
  const local = {
    colour: decided.colour,
    registrationId,
    day: localDay(new Date(scan.scanned_at)),
    first: decided.first || null,
  };
  const queue = loadQueue();
  queue.push({ ...scan, local });
  save(KEYS.queue, queue);
  if (decided.colour === "green") {
    remember(registrationId, decided.first);
  }
  renderBadges();
}

let scanChain = Promise.resolve();

function handleScan(code, method) {
  // One scan at a time, in the order they came (a hand-held scanner can be faster than the network).
  const run = scanChain.then(() => processScan(code, method));
  scanChain = run.catch(() => {});
  return run;
}

async function processScan(code, method) {
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
      queueScan(scan, decided, registrationId);
      const undo = decided.colour === "green" ? { nonce: scan.nonce, registrationId } : null;
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

function focusCodeInput() {
  const typing = document.activeElement === el.searchInput || document.activeElement === el.deskInput;
  if (!typing && el.deskForm.hidden && window.matchMedia("(pointer: fine)").matches) {
    el.codeInput.focus();
  }
}

// ---- the offline queue ------------------------------------------------------------------------------

let syncing = false;
let syncDone = Promise.resolve();

function sync() {
  if (syncing || !navigator.onLine) {
    renderBadges();
    return syncDone;
  }
  syncing = true;
  syncDone = sendQueue();
  return syncDone;
}

async function sendQueue() {
  try {
    for (;;) {
      const chunk = loadQueue().slice(0, BATCH_SIZE);
      if (!chunk.length) {
        break;
      }
      const scans = chunk.map(({ local, ...scan }) => scan);
      let answers;
      try {
        const { body } = await request(config.urls.batch, { method: "POST", body: { scans }, timeout: SYNC_TIMEOUT_MS });
        answers = body.results;
      } catch (error) {
        if (error instanceof ApiError && Number.isInteger(error.body.index)) {
          dropFromQueue([chunk[error.body.index].nonce]); // a scan the server can never accept
          continue;
        }
        handleRequestError(error);
        break;
      }
      networkOk(true);
      chunk.forEach((item, i) => {
        settle(item, answers[i]);
      });
      dropFromQueue(chunk.map((item) => item.nonce));
    }
  } finally {
    syncing = false;
    renderBadges();
  }
}

function settle(item, answer) {
  const registrationId = item.local?.registrationId;
  if (!answer || registrationId == null) {
    return;
  }
  if (answer.first && (answer.colour === "green" || answer.colour === "amber")) {
    remember(registrationId, { time: answer.first.time, desk: answer.first.desk, checkInId: answer.check_in_id });
  } else if (item.local.colour === "green") {
    forget(registrationId); // the server refused what this device let in
  }
  if (undoTarget?.nonce === item.nonce) {
    // The last scan was sent: from now on it is undone on the server.
    undoTarget =
      answer.colour === "green" && answer.undo_until
        ? { checkInId: answer.check_in_id, until: answer.undo_until, registrationId }
        : null;
    el.resultUndo.hidden = el.lastUndo.hidden = !undoTarget;
  }
}

function dropFromQueue(nonces) {
  const gone = new Set(nonces);
  save(KEYS.queue, loadQueue().filter((item) => !gone.has(item.nonce)));
}

el.queue.addEventListener("click", () => sync());

window.addEventListener("online", () => {
  lastRequestOk = true;
  renderBadges();
  sync();
  refreshRoster();
});
window.addEventListener("offline", renderBadges);
window.addEventListener("storage", (event) => {
  if (event.key === KEYS.queue) {
    renderBadges(); // another tab of this stage queued or sent scans
  }
});

// ---- search --------------------------------------------------------------------------------------------

let searchTimer = null;
let searchSerial = 0;

el.searchInput.addEventListener("input", () => {
  clearTimeout(searchTimer);
  searchTimer = setTimeout(() => runSearch(el.searchInput.value.trim()), 250);
});

function localSearch(query) {
  const needle = query.toLowerCase();
  const today = seenToday();
  return (roster?.registrations || [])
    .filter((entry) => entry.name.toLowerCase().includes(needle) || entry.organization.toLowerCase().includes(needle))
    .slice(0, SEARCH_LIMIT)
    .map((entry) => ({
      name: entry.name,
      position: entry.position,
      organization: entry.organization,
      code: `${entry.code.slice(0, 4)}-${entry.code.slice(4)}`,
      note: null,
      checked_in: today[entry.id] || null,
    }));
}

async function runSearch(query) {
  const serial = ++searchSerial;
  el.searchNote.hidden = true;
  if (query.length < 2) {
    el.searchResults.replaceChildren();
    return;
  }
  let results;
  let note = "";
  try {
    const { body } = await request(`${config.urls.search}?q=${encodeURIComponent(query)}`);
    results = body.results;
  } catch (error) {
    if (error instanceof ApiError) {
      results = [];
      note = error.message;
    } else {
      handleRequestError(error);
      results = localSearch(query);
      note = T.searchOffline;
    }
  }
  if (serial !== searchSerial) {
    return; // a newer search is under way
  }
  if (!results.length) {
    note = note ? `${note} ${T.searchNone}` : T.searchNone;
  }
  el.searchNote.textContent = note;
  el.searchNote.hidden = !note;
  el.searchResults.replaceChildren(...results.map(searchItem));
}

function searchItem(found) {
  const item = document.createElement("li");
  const who = document.createElement("div");
  who.className = "who";
  const name = document.createElement("strong");
  name.textContent = found.name;
  const detail = document.createElement("small");
  detail.textContent = [found.position, found.organization].filter(Boolean).join(" · ");
  who.append(name, detail);
  if (found.note) {
    const note = document.createElement("small");
    note.className = "note";
    note.textContent = found.note;
    who.append(note);
  }
  if (found.checked_in) {
    const done = document.createElement("small");
    done.className = "done";
    done.textContent = fill(T.checkedInAt, found.checked_in);
    who.append(done);
  }
  const button = document.createElement("button");
  button.type = "button";
  button.textContent = T.checkInButton;
  button.addEventListener("click", async () => {
    await handleScan(found.code, "search");
    el.searchInput.value = "";
    el.searchResults.replaceChildren();
    el.searchNote.hidden = true;
  });
  item.append(who, button);
  return item;
}

// ---- the camera ----------------------------------------------------------------------------------------

let stream = null;
let decoder = null;

// The same API either way: the browser's own BarcodeDetector where it reads QR codes, else the
// barcode-detector polyfill (ZXing in WebAssembly, both from static/vendor, never from its CDN).
async function qrDetector() {
  if ("BarcodeDetector" in window) {
    try {
      const formats = await window.BarcodeDetector.getSupportedFormats();
      if (formats.includes("qr_code")) {
        return { name: "native", detector: new window.BarcodeDetector({ formats: ["qr_code"] }) };
      }
    } catch {
      // fall through to the polyfill
    }
  }
  const { BarcodeDetector, prepareZXingModule } = await import(config.urls.barcodeDetector);
  const wasm = new URL(config.urls.zxingWasm, location.href).href;
  await prepareZXingModule({
    overrides: { locateFile: (path, prefix) => (path.endsWith(".wasm") ? wasm : prefix + path) },
    fireImmediately: true, // load it now: a frame decoded later does not wait for it
  });
  return { name: "polyfill", detector: new BarcodeDetector({ formats: ["qr_code"] }) };
}

async function makeDecoder() {
  const { name, detector } = await qrDetector();
  return {
    name,
    decode: async (source) => {
      try {
        const codes = await detector.detect(source);
        return codes.length ? codes[0].rawValue : null;
      } catch {
        return null; // a frame that cannot be read
      }
    },
  };
}

function cameraMessage(text) {
  el.cameraMessage.textContent = text;
  el.cameraMessage.hidden = !text;
}

async function startCamera() {
  if (!navigator.mediaDevices?.getUserMedia) {
    cameraMessage(T.cameraNone);
    return;
  }
  try {
    stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: { ideal: "environment" } }, audio: false });
  } catch {
    stream = null;
    cameraMessage(T.cameraError);
    save(KEYS.camera, "off");
    return;
  }
  cameraMessage("");
  el.video.srcObject = stream;
  el.cameraFrame.hidden = false;
  el.cameraToggle.textContent = T.cameraStop;
  save(KEYS.camera, "on");
  try {
    await el.video.play();
    decoder = decoder || (await makeDecoder());
  } catch {
    stopCamera();
    cameraMessage(T.cameraError);
    return;
  }
  el.camera.dataset.decoder = decoder.name;
  scanFrames(stream);
}

function stopCamera() {
  if (stream) {
    for (const track of stream.getTracks()) {
      track.stop();
    }
  }
  stream = null;
  el.video.srcObject = null;
  el.cameraFrame.hidden = true;
  el.cameraToggle.textContent = T.cameraStart;
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function scanFrames(own) {
  while (stream === own) {
    if (!processing && el.result.hidden && el.video.readyState >= 2) {
      const text = await decoder.decode(el.video);
      if (text && stream === own && !processing && el.result.hidden) {
        await handleScan(text, "camera");
      }
    }
    await sleep(CAMERA_INTERVAL_MS);
  }
}

el.cameraToggle.addEventListener("click", () => {
  if (stream) {
    stopCamera();
    save(KEYS.camera, "off");
  } else {
    startCamera();
  }
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

// ---- start -------------------------------------------------------------------------------------------

rebuildIndex();
if (!seen) {
  mergeRosterCheckIns();
}
renderDesk();
renderBadges();
showRosterStatus(false);
focusCodeInput();
if (load(KEYS.camera, "off") === "on") {
  startCamera();
}
refreshRoster().then(() => {
  root.dataset.state = "ready";
  sync();
});
if (navigator.onLine) {
  startServiceWorker();
}
setInterval(sync, RETRY_MS);
setInterval(refreshRoster, ROSTER_REFRESH_MS);
