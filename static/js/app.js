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
// offline check-in (static/js/scanner.js). It stays only while needed: logging out drops every roster
// kept here, and any page drops those of stages that have ended. Scans still waiting to be sent stay.
const ROSTER_KEY = /^bh\.scanner\.roster\.(\d+)$/;

function forgetRosters(onlyEnded) {
  let keys;
  try {
    keys = Object.keys(localStorage);
  } catch {
    return; // storage disabled: nothing kept
  }
  for (const key of keys) {
    const match = ROSTER_KEY.exec(key);
    if (match && (!onlyEnded || rosterEnded(localStorage.getItem(key)))) {
      localStorage.removeItem(key);
      localStorage.removeItem(`bh.scanner.seen.${match[1]}`);
    }
  }
}

function rosterEnded(text) {
  try {
    const { days, timezone } = JSON.parse(text).stage;
    const today = new Intl.DateTimeFormat("en-CA", { timeZone: timezone }).format(new Date());
    return today > days[days.length - 1];
  } catch {
    return true; // unreadable: nothing to keep
  }
}

for (const form of document.querySelectorAll('form[action$="/logout"]')) {
  form.addEventListener("submit", () => forgetRosters(false));
}
forgetRosters(true);

if (document.querySelector("[data-confirm]")) {
  import("./confirm.js");
}
