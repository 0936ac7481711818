// Small progressive enhancements shared by every page (no inline scripts: strict CSP).

for (const button of document.querySelectorAll("[data-copy]")) {
  button.addEventListener("click", async () => {
    const source = document.querySelector(button.dataset.copy);
    source.select();
    try {
      await navigator.clipboard.writeText(source.value);
    } catch {
      document.execCommand("copy");
    }
    button.textContent = button.dataset.copied;
  });
}

for (const box of document.querySelectorAll("[data-select-all]")) {
  box.addEventListener("change", () => {
    const name = box.dataset.selectAll;
    for (const item of box.form.querySelectorAll(`input[type=checkbox][name="${name}"]`)) {
      item.checked = box.checked;
    }
  });
}

// The check-in scanner keeps its stage's roster (names, positions, organisations) on the device for
// offline check-in (static/js/scanner/). It stays only while needed: logging out drops every roster
// kept here, and any page drops those of stages that have ended. Scans still waiting to be sent stay.
// The rosters are in IndexedDB (static/js/scanner/storage.js), listed with their stage's last day in
// localStorage: pages open IndexedDB only when there is a roster to drop. An older version kept
// them in localStorage itself: those go the same way.
const KEPT = "bh.scanner.kept";
const LEGACY_ROSTER = /^bh\.scanner\.roster\.(\d+)$/;
const LOGOUT_WAIT_MS = 2000;

function today(timezone) {
  return new Intl.DateTimeFormat("en-CA", { timeZone: timezone }).format(new Date());
}

function nextDate(isoDate) {
  const day = new Date(`${isoDate}T00:00:00Z`);
  day.setUTCDate(day.getUTCDate() + 1);
  return day.toISOString().slice(0, 10);
}

function forgetLegacyRosters(onlyEnded) {
  let keys;
  try {
    keys = Object.keys(localStorage);
  } catch {
    return; // storage disabled: nothing kept
  }
  for (const key of keys) {
    const match = LEGACY_ROSTER.exec(key);
    if (match && (!onlyEnded || legacyRosterEnded(localStorage.getItem(key)))) {
      localStorage.removeItem(key);
      localStorage.removeItem(`bh.scanner.seen.${match[1]}`);
    }
  }
}

// The older roster names its stage's days, not when it ends. A stage of several days runs each day within it;
// a stage of one day may be one span crossing midnight (19.00-01.00), whose check-ins hold until the date
// it ends on is over (scanner/page.js stageDay): its roster stays through the date after its day.
function legacyRosterEnded(text) {
  try {
    const { days, timezone } = JSON.parse(text).stage;
    const last = days.length === 1 ? nextDate(days[0]) : days[days.length - 1];
    return today(timezone) > last;
  } catch {
    return true; // unreadable: nothing to keep
  }
}

/** The stages whose roster is kept (all, or those that have ended). */
function keptStages(onlyEnded) {
  let kept;
  try {
    kept = JSON.parse(localStorage.getItem(KEPT)) || {};
  } catch {
    return [];
  }
  return Object.entries(kept)
    .filter(([, stage]) => {
      if (!onlyEnded) return true;
      try {
        return today(stage.timezone) > stage.last;
      } catch {
        return true; // unreadable: nothing to keep
      }
    })
    .map(([stageId]) => Number(stageId));
}

function forgetRosters(stageIds) {
  return import("./scanner/forget.js").then((module) => module.forgetRosters(stageIds)).catch(() => {});
}

for (const form of document.querySelectorAll('form[action$="/logout"]')) {
  form.addEventListener("submit", (event) => {
    forgetLegacyRosters(false);
    const stages = keptStages(false);
    if (!stages.length) return;
    // IndexedDB answers later: log out once the rosters are gone (or after a moment, whatever happens).
    event.preventDefault();
    const waited = new Promise((resolve) => setTimeout(resolve, LOGOUT_WAIT_MS));
    Promise.race([forgetRosters(stages), waited]).then(() => form.submit());
  });
}
forgetLegacyRosters(true);
const ended = keptStages(true);
if (ended.length) forgetRosters(ended);

if (document.querySelector("[data-confirm]")) {
  import("./confirm.js");
}
