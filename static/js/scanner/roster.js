// The stage's roster on this device (for offline check-in and search) and what this device knows
// was checked in on the stage's day ("seen"), both in IndexedDB (storage.js). Tickets are parsed as
// workshop/checkin/tickets.py parses them. The roster holds no ticket secret: per ticket the
// HMAC-SHA256 of its secret under the roster's key ("mac"), and a scanned secret is looked up by
// the same HMAC (@noble/hashes from static/vendor: WebCrypto's would need HTTPS).

import { hmac } from "../../vendor/noble-hashes/hmac.js";
import { sha256 } from "../../vendor/noble-hashes/sha2.js";
import { bytesToHex, hexToBytes, utf8ToBytes } from "../../vendor/noble-hashes/utils.js";
import { request } from "./api.js";
import { config, el, fill, localClock, STAGE, stageDay, stageEnded, T } from "./page.js";
import { queued } from "./queue.js";
import { handleRequestError, networkOk } from "./status.js";
import { keys, markKept, onChange, read, remove, unmarkKept, update, write } from "./storage.js";

const QR_PREFIX = config.tickets.qrPrefix;
const SECRET_ALPHABET = config.tickets.secretAlphabet;
const CODE_ALPHABET = SECRET_ALPHABET.toUpperCase();
const SECRET_LENGTH = config.tickets.secretLength;
const CODE_LENGTH = config.tickets.codeLength;
const ROSTER_KEY = keys.roster(STAGE);
const SEEN_KEY = keys.seen(STAGE);

// ---- tickets ---------------------------------------------------------------------------------------

const isSecret = (value) => value.length === SECRET_LENGTH && [...value].every((c) => SECRET_ALPHABET.includes(c));

export function parseTicket(text) {
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

let roster = null;
let index = { byMac: new Map(), byCode: new Map(), byId: new Map() };
let seen = null; // {day, entries: {registrationId: {time, desk, checkInId}}}

/** The roster's entries (for the search on this device). */
export const entries = () => roster?.registrations || [];

function rebuildIndex() {
  index = { byMac: new Map(), byCode: new Map(), byId: new Map() };
  for (const entry of entries()) {
    index.byMac.set(entry.mac, entry);
    index.byCode.set(entry.code, entry);
    index.byId.set(entry.id, entry);
  }
}

// A secret is found by its HMAC-SHA256 under the roster's key, as tickets/codes.py roster_mac computes it.
function findBySecret(secret) {
  if (!roster?.key) {
    return null;
  }
  const mac = bytesToHex(hmac(sha256, hexToBytes(roster.key), utf8ToBytes(secret)));
  return index.byMac.get(mac) || null;
}

export function lookup(code) {
  const parsed = parseTicket(code);
  if (!parsed) {
    return { parsed: null, entry: null };
  }
  const entry = parsed.kind === "secret" ? findBySecret(parsed.value) : index.byCode.get(parsed.value) || null;
  return { parsed, entry };
}

function today() {
  return stageDay(new Date());
}

export function seenToday() {
  if (!seen || seen.day !== today()) {
    seen = { day: today(), entries: {} };
  }
  return seen.entries;
}

// A change of one entry, written under the key's lock over what the other tabs wrote meanwhile.
function changeSeen(registrationId, first) {
  if (registrationId == null) {
    return;
  }
  const change = (stored) => {
    const next = stored?.day === today() ? { ...stored, entries: { ...stored.entries } } : { day: today(), entries: {} };
    if (first) next.entries[registrationId] = first;
    else delete next.entries[registrationId];
    return next;
  };
  seen = change(seen);
  update(SEEN_KEY, null, change).then((stored) => {
    seen = stored;
  });
}

export const remember = (registrationId, first) => changeSeen(registrationId, first);
export const forget = (registrationId) => changeSeen(registrationId, null);

function mergeRosterCheckIns() {
  if (stageEnded()) {
    forgetRoster();
    return;
  }
  // The server's check-ins of today, plus this device's offline check-ins it has not sent yet.
  const day = today();
  const entries = roster && roster.day === day ? { ...roster.check_ins } : {};
  for (const item of queued()) {
    if (item.local?.colour === "green" && item.local.day === day) {
      entries[item.local.registrationId] = item.local.first;
    }
  }
  seen = { day, entries };
  write(SEEN_KEY, seen);
}

export function showRosterStatus(stale) {
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
export function forgetRoster() {
  unmarkKept([STAGE]);
  remove(ROSTER_KEY);
  remove(SEEN_KEY);
}

/** What the device kept, at the start of the page. */
export async function loadRoster() {
  roster = await read(ROSTER_KEY, null);
  seen = await read(SEEN_KEY, null);
  rebuildIndex();
  if (!seen) {
    mergeRosterCheckIns();
  }
}

export async function refreshRoster() {
  let stale = false;
  try {
    const { body } = await request(config.urls.roster);
    roster = body;
    if (!stageEnded()) {
      markKept(STAGE, config.stage);
      await write(ROSTER_KEY, roster);
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

// Another tab of this stage checked someone in or took a roster in: follow it.
onChange(async (key) => {
  if (key === SEEN_KEY) seen = await read(SEEN_KEY, null);
});
