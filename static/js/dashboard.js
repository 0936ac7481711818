// Live attendance numbers of a stage (templates/reports/dashboard.html), from dashboard.json,
// refreshed on "attendance_changed" events (see lib/follow_stage.js).

import { fetchSnapshot } from "./lib/fetch_snapshot.js";
import { followStage, pick } from "./lib/follow_stage.js";

const CHECK_MS = 10_000;
const LONGEST_TIMEOUT_MS = 2 ** 31 - 1;

const root = document.querySelector("[data-dashboard]");

if (root) {
  const stageId = Number(root.dataset.stageId);
  const snapshotUrl = root.dataset.snapshot;
  const badge = root.querySelector("[data-live-badge]");
  const updated = root.querySelector("[data-updated]");
  // The page's language sets the clock, as on the server: 09.00.05 (id), 09:00:05 (en); then "WIB".
  const clock = new Intl.DateTimeFormat(document.documentElement.lang || "id", {
    hour: "2-digit",
    minute: "2-digit",
    second: "2-digit",
    hourCycle: "h23",
    timeZone: root.dataset.timezone || undefined,
  });

  function render(data) {
    // The stage opened or ended since the page was drawn: the server draws the other phase's page.
    if (data.phase && data.phase !== root.dataset.phase) {
      window.location.reload();
      return;
    }
    for (const element of root.querySelectorAll("[data-value]")) {
      const value = pick(data, element.dataset.value);
      if (value != null) element.textContent = String(value);
    }
    for (const element of root.querySelectorAll("[data-hide-when-zero]")) {
      element.hidden = !pick(data, element.dataset.hideWhenZero);
    }
    const participants = data.participants || 0;
    for (const bar of root.querySelectorAll("[data-bar]")) {
      const count = pick(data, `by_status.${bar.dataset.bar}`) || 0;
      const width = participants ? (100 * count) / participants : 0;
      bar.setAttribute("width", width.toFixed(2)); // an SVG attribute, not a style (strict CSP)
    }
    root.dataset.version = String(data.version);
    if (updated && data.generated_at) {
      updated.textContent = `${clock.format(new Date(data.generated_at))} ${root.dataset.zone}`;
      updated.setAttribute("datetime", data.generated_at);
    }
  }

  // Nothing is sent when the stage's check-in opens or the stage ends: ask from then on until the
  // phase has changed (the device's clock may be ahead of the server's).
  const changesAt = Date.parse(root.dataset.changesAt || "");
  const wait = changesAt - Date.now();
  if (wait < LONGEST_TIMEOUT_MS) {
    const check = async () => {
      try {
        const response = await fetchSnapshot(snapshotUrl);
        if (response.ok) render(await response.json());
      } catch {
        // offline for a moment: the next check asks again
      }
    };
    setTimeout(
      () => {
        check();
        setInterval(check, CHECK_MS);
      },
      Math.max(wait, 0) + 1000,
    );
  }

  followStage({ stageId, snapshotUrl, socketSrc: root.dataset.socketSrc, event: "attendance_changed", badge, render });
}
