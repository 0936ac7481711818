// What the petugas sees and hears: the full-screen green / amber / red result with a beep (back to scanning within a second), and its undo.

import { ApiError, request } from "./api.js";
import { config, el, fill, focusCodeInput, T } from "./page.js";
import { removeFromQueue, whenSent } from "./queue.js";
import { forget } from "./roster.js";
import { handleRequestError, renderBadges } from "./status.js";

const SHOW_MS = { green: 1000, amber: 3000, red: 3000 };

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
let undoTarget = null; // {checkInId, until, registrationId} or {nonce, scan, registrationId} (still queued)

export function showResult(shown) {
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
    await whenSent(); // the scan may be on its way to the server right now
    if (undoTarget !== target) {
      return undo(); // it arrived: undo it on the server
    }
    // Still waiting on this device: take it out of the queue before it is sent.
    if (await removeFromQueue([target.scan])) {
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

/** A queued scan reached the server: if it is the one the undo button is for, from now on it is
 * undone on the server. */
export function queuedScanSent(nonce, answer, registrationId) {
  if (undoTarget?.nonce === nonce) {
    undoTarget =
      answer.colour === "green" && answer.undo_until
        ? { checkInId: answer.check_in_id, until: answer.undo_until, registrationId }
        : null;
    el.resultUndo.hidden = el.lastUndo.hidden = !undoTarget;
  }
}
