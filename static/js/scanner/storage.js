// What the scanner keeps on the device. The offline queue, the roster and what this device knows was
// checked in today live in IndexedDB (idb-keyval from static/vendor), one key per stage; a change
// is read, changed and written under a Web Lock of its key (navigator.locks), so that two tabs of
// the scanner never overwrite each other's scans, and the other tabs hear of it (BroadcastChannel).
// The desk name and the camera choice, small and read at once, stay in localStorage. Data an older
// version kept in localStorage moves here once (migrateLocalStorage).

import { createStore, del, get, set } from "../../vendor/idb-keyval/index.js";

const store = createStore("bh-scanner", "keyval");
const PREFIX = "bh.scanner.";
// The stages whose roster this device keeps, with the date it is kept until: static/js/app.js reads it to drop
// them at logout or once the stage has ended, without opening IndexedDB on every page.
export const KEPT = `${PREFIX}kept`;

export const keys = {
  queue: (stageId) => `queue.${stageId}`,
  roster: (stageId) => `roster.${stageId}`,
  seen: (stageId) => `seen.${stageId}`,
};

const channel = "BroadcastChannel" in window ? new BroadcastChannel(`${PREFIX}changes`) : null;

/** Call `listener(key)` when another tab changed a key. */
export function onChange(listener) {
  if (channel) channel.addEventListener("message", (event) => listener(event.data?.key));
}

export async function read(key, fallback) {
  try {
    const value = await get(key, store);
    return value === undefined ? fallback : value;
  } catch {
    return fallback; // storage disabled: the page still works online
  }
}

export async function write(key, value) {
  try {
    await set(key, value, store);
    channel?.postMessage({ key });
    return true;
  } catch {
    return false; // storage full or disabled: the page still works online
  }
}

export async function remove(key) {
  try {
    await del(key, store);
    channel?.postMessage({ key });
  } catch {
    // storage disabled: nothing kept
  }
}

const tabLocks = new Map();

/** Run `task` holding the lock `name` in every tab of this site (only in this tab where the
 * browser has no Web Locks: a page over plain http). */
export function locked(name, task) {
  if (navigator.locks) return navigator.locks.request(`${PREFIX}${name}`, task);
  const run = (tabLocks.get(name) || Promise.resolve()).then(task);
  tabLocks.set(
    name,
    run.catch(() => {}),
  );
  return run;
}

/** Read a key, change it with `change(value)` and write it back, under its lock; the new value. */
export function update(key, fallback, change) {
  return locked(key, async () => {
    const next = change(await read(key, fallback));
    await write(key, next);
    return next;
  });
}

// ---- small settings in localStorage ----------------------------------------------------------------

export function loadSetting(name, fallback) {
  try {
    const text = localStorage.getItem(`${PREFIX}${name}`);
    return text === null ? fallback : JSON.parse(text);
  } catch {
    return fallback;
  }
}

export function saveSetting(name, value) {
  try {
    localStorage.setItem(`${PREFIX}${name}`, JSON.stringify(value));
  } catch {
    // storage full or disabled
  }
}

export function markKept(stageId, stage) {
  const kept = loadSetting("kept", {}) || {};
  kept[stageId] = { last: stage.lastDate || stage.days[stage.days.length - 1], timezone: stage.timezone };
  saveSetting("kept", kept);
}

export function unmarkKept(stageIds) {
  const kept = loadSetting("kept", {}) || {};
  for (const stageId of stageIds) delete kept[stageId];
  saveSetting("kept", kept);
}

// ---- from localStorage, once --------------------------------------------------------------------------

const LEGACY = /^bh\.scanner\.(queue|roster|seen)\.(\d+)$/;

/** Move the queues, rosters and seen lists an older version kept in localStorage into IndexedDB
 * (a queue merged with what is there, by nonce), then drop them from localStorage. */
export async function migrateLocalStorage() {
  let names;
  try {
    names = Object.keys(localStorage);
  } catch {
    return;
  }
  for (const name of names) {
    const match = LEGACY.exec(name);
    if (!match) continue;
    const [, kind, stageId] = match;
    let value = null;
    try {
      value = JSON.parse(localStorage.getItem(name));
    } catch {
      value = null;
    }
    const key = `${kind}.${stageId}`;
    const moved = await locked(key, async () => {
      const known = await read(key, null);
      if (kind === "queue") {
        const queue = Array.isArray(known) ? known : [];
        const nonces = new Set(queue.map((item) => item.nonce));
        const older = (Array.isArray(value) ? value : []).filter((item) => item && !nonces.has(item.nonce));
        return older.length ? write(key, [...older, ...queue]) : true;
      }
      return known === null && value !== null ? write(key, value) : true;
    });
    if (!moved) continue; // IndexedDB refused: kept where it is, moved next time
    if (kind === "roster" && value?.stage?.days?.length) markKept(stageId, value.stage);
    try {
      localStorage.removeItem(name);
    } catch {
      // nothing to do
    }
  }
}
