// The stage's phase while a live page stays open (a projector left on all day, a phone kept open):
// the server drew the page in config.phase; it moves to "running" at config.starts_at and to "ended"
// after config.ends_at, instants of the server's clock. Between two days of a stage held over several
// (config.days, [start, end] per day) it is still running, yet the page says when it resumes
// (config.resumes, per day), until that day's start; at the day's end it says so again. The page times
// these on the server's clock (config.server_time, then each fetched snapshot's: a device's clock may be
// minutes off), and looks again whenever the state comes (a phone waking from sleep fetches it). The
// page only moves forward.

import { serverNow, setServerTime } from "./server_clock.js";

const LONGEST_WAIT_MS = 3_600_000; // timers far ahead are re-armed: a sleeping device's may drift
const MARGIN_MS = 1_000; // after the instant, so that the server agrees

// The instants at which the page moves on, in order: each day's start and end, the last end once
// passed (a stage runs until its end included: workshop/programs/schedule.py stage_phase, resumes_at).
// A moment's step is the number of them it has reached: 0 upcoming, odd during a day, even between two
// days, all of them ended.
function instants(config) {
  const days = config.days?.length ? config.days : [[config.starts_at, config.ends_at]];
  const moments = days.flat().map((moment) => Date.parse(moment));
  moments[0] = Date.parse(config.starts_at);
  moments[moments.length - 1] = Date.parse(config.ends_at) + 1;
  return moments;
}

const stepAt = (moments, moment) => moments.filter((instant) => instant <= moment).length;

/**
 * Call `onPhase(phase, resumes)` each time the stage has moved on from where the page was drawn: its
 * phase, and while running between two days, what the page says of when it resumes ("" during a day).
 * Returns `check()`, to call when a snapshot came (its server time may show an instant has passed).
 */
export function followPhase(config, onPhase) {
  const moments = instants(config);
  let timer = null;
  if (config.server_time) setServerTime(config.server_time);
  // Where the server drew the page: its phase, and during a day or between two.
  const drawn = Math.min(Math.max(stepAt(moments, serverNow()), 1), moments.length - 1);
  let step = { upcoming: 0, running: drawn, ended: moments.length }[config.phase];

  function check() {
    const now = serverNow();
    const next = stepAt(moments, now);
    if (next > step) {
      step = next;
      const phase = step === 0 ? "upcoming" : step === moments.length ? "ended" : "running";
      onPhase(phase, phase === "running" && step % 2 === 0 ? config.resumes?.[step / 2] || "" : "");
    }
    clearTimeout(timer);
    timer = null;
    if (step < moments.length) {
      timer = setTimeout(check, Math.min(Math.max(moments[step] - now, 0) + MARGIN_MS, LONGEST_WAIT_MS));
    }
  }

  check();
  return check;
}
