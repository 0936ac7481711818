// The stage's phase while a live page stays open (a projector left on all day, a phone kept open):
// the server drew the page in config.phase; it moves to "running" at config.starts_at and to "ended"
// after config.ends_at, instants of the server's clock. The page times them on the server's clock
// (config.server_time, then each fetched snapshot's: a device's clock may be minutes off), and looks
// again whenever the state comes (a phone waking from sleep fetches it). A phase only moves forward.

import { serverNow, setServerTime } from "./server_clock.js";

const ORDER = ["upcoming", "running", "ended"];
const LONGEST_WAIT_MS = 3_600_000; // timers far ahead are re-armed: a sleeping device's may drift
const MARGIN_MS = 1_000; // after the instant, so that the server agrees

/** The phase of the stage at a moment of the server's clock (workshop/programs/schedule.py stage_phase). */
export function phaseAt(config, moment) {
  if (moment > Date.parse(config.ends_at)) return "ended";
  return moment >= Date.parse(config.starts_at) ? "running" : "upcoming";
}

/**
 * Call `onPhase(phase)` once the stage has moved past config.phase (at most once per phase). Returns
 * `check()`, to call when a snapshot came (its server time may show the instant has passed).
 */
export function followPhase(config, onPhase) {
  let phase = config.phase;
  let timer = null;
  if (config.server_time) setServerTime(config.server_time);

  function check() {
    const now = serverNow();
    const next = phaseAt(config, now);
    if (ORDER.indexOf(next) > ORDER.indexOf(phase)) {
      phase = next;
      onPhase(next);
    }
    clearTimeout(timer);
    timer = null;
    const boundary = { upcoming: Date.parse(config.starts_at), running: Date.parse(config.ends_at) }[phase];
    if (boundary !== undefined) {
      timer = setTimeout(check, Math.min(Math.max(boundary - now, 0) + MARGIN_MS, LONGEST_WAIT_MS));
    }
  }

  check();
  return check;
}
