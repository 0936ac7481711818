// The scanner page's configuration (written by workshop/checkin/scanner_views.py into a JSON block),
// its elements, and the time of day in the programme's time zone.

import { pageConfig } from "../lib/page_config.js";

export const config = pageConfig(document.getElementById("scanner-config"));
export const T = config.texts;
export const STAGE = config.stageId;

const $ = (selector) => document.querySelector(selector);
export const root = $("[data-scanner]");
export const el = {
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
  closed: $("[data-testid=check-in-closed]"),
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

export const fill = (text, values) => text.replace(/\{(\w+)\}/g, (match, key) => (key in values ? values[key] : match));

export function focusCodeInput() {
  const typing = document.activeElement === el.searchInput || document.activeElement === el.deskInput;
  if (!typing && el.deskForm.hidden && window.matchMedia("(pointer: fine)").matches) {
    el.codeInput.focus();
  }
}

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

export const localDay = (date) =>
  `${part(dayParts, date, "year")}-${part(dayParts, date, "month")}-${part(dayParts, date, "day")}`;
export const localClock = (date) => `${clock.format(date)} ${config.stage.zone}`;

// When the hall check-in of each day is open: [opens, closes) in milliseconds (as services.py decides).
export const checkInWindows = config.stage.windows.map((span) => span.map((moment) => Date.parse(moment)));

// Each window's opening and closing as the page says them ("Kamis, 24 Juni 2021, pukul 07.00 WIB").
const windowLabels = config.stage.windowLabels;

/** Whether a scan at `at` (ms) can be recorded, as windows.py check_in_state says: {state: "open",
 * "before", "between" or "after", text: what the desk is told when it cannot, next: when that changes}. */
export function checkInState(at) {
  const index = checkInWindows.findIndex(([, closes]) => at < closes);
  if (index === -1) {
    return { state: "after", text: fill(T.closedAfter, { time: windowLabels.at(-1)[1] }), next: null };
  }
  const [opens, closes] = checkInWindows[index];
  if (at >= opens) {
    return { state: "open", text: "", next: closes };
  }
  const state = index === 0 ? "before" : "between";
  const text = fill(index === 0 ? T.closedBefore : T.closedBetween, { time: windowLabels[index][0] });
  return { state, text, next: opens };
}

export function outsideWindow(at) {
  const { state } = checkInState(at);
  if (state === "before") {
    return { colour: "amber", result: "stage_not_started", message: fill(T.stageNotStarted, { time: windowLabels[0][0] }) };
  }
  if (state === "after") {
    return { colour: "red", result: "stage_ended", message: fill(T.stageEnded, { time: windowLabels.at(-1)[1] }) };
  }
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

// The stage day whose hall check-ins count at a moment, as windows.py hall_date says: the day whose
// check-in window holds it, or the day whose window closed earlier on its date (after midnight in a
// stage crossing it, still the day it began); else the moment's date.
export function stageDay(at) {
  for (let index = checkInWindows.length - 1; index >= 0; index--) {
    const [opens, closes] = checkInWindows[index];
    if (opens <= at) {
      return at < closes || localDay(new Date(closes)) === localDay(at) ? config.stage.days[index] : localDay(at);
    }
  }
  return localDay(at);
}

// The roster names every participant of the stage: kept on this device only until the date of the stage's
// end has passed (the day after its last day for a stage crossing midnight).
export const stageEnded = () => localDay(new Date()) > config.stage.lastDate;
