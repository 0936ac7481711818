// The time windows a page acts in (a stage's days, its check-in hours), as the server writes them
// into a data attribute: "2026-06-24T01:30:00Z/2026-06-24T10:00:00Z ...".

/** "2026-06-24T01:30:00Z/2026-06-24T10:00:00Z ..." -> [[start ms, end ms], ...] */
export function parseWindows(text) {
  return (text || "")
    .split(" ")
    .filter(Boolean)
    .map((span) => span.split("/").map((moment) => Date.parse(moment)));
}

export function within(windows, now = Date.now()) {
  return windows.some(([start, end]) => start <= now && now <= end);
}

/** Milliseconds until the next window opens, or null when none is ahead. */
export function untilNext(windows, now = Date.now()) {
  const ahead = windows.map(([start]) => start - now).filter((wait) => wait > 0);
  return ahead.length ? Math.min(...ahead) : null;
}
