// Search by name or organisation, with one-tap check-in: the server's search, or this device's
// roster when there is no answer.

import { ApiError, request } from "./api.js";
import { config, el, fill, T } from "./page.js";
import { entries, seenToday } from "./roster.js";
import { handleRequestError } from "./status.js";

const SEARCH_LIMIT = config.limits.searchResults;
let checkIn = null; // (code, method) => a scan, set by main.js

/** Start searching as the petugas types; `scan(code, method)` checks a found person in. */
export function startSearch(scan) {
  checkIn = scan;
  el.searchInput.addEventListener("input", () => {
    clearTimeout(searchTimer);
    searchTimer = setTimeout(() => runSearch(el.searchInput.value.trim()), 250);
  });
}

let searchTimer = null;
let searchSerial = 0;

function localSearch(query) {
  const needle = query.toLowerCase();
  const today = seenToday();
  return entries()
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
    await checkIn(found.code, "search");
    el.searchInput.value = "";
    el.searchResults.replaceChildren();
    el.searchNote.hidden = true;
  });
  item.append(who, button);
  return item;
}
