// The offline queue: scans decided on this device, each with its nonce and scan time, kept in
// IndexedDB until the batch endpoint has them. Every change is made under the queue's Web Lock over
// what is stored (storage.js): two tabs of the same stage add and send without losing a scan. The
// server keeps the earliest scan and counts a nonce once, so a scan sent twice is harmless.

import { ApiError, request } from "./api.js";
import { config, STAGE } from "./page.js";
import { handleRequestError, networkOk, renderBadges } from "./status.js";
import { keys, onChange, read, update } from "./storage.js";

const SYNC_TIMEOUT_MS = 20000;
const BATCH_SIZE = config.limits.batch;
const QUEUE_KEY = keys.queue(STAGE);

let items = []; // what is stored, as this tab last read or wrote it
let onSent = () => {}; // (item, answer): what the server said of a scan sent from the queue

/** What to do with the server's answer to each queued scan sent (main.js says). */
export function setOnSent(handler) {
  onSent = handler;
}

/** The scans waiting, oldest first (each {code, desk, nonce, scanned_at, method, local}). */
export const queued = () => items;

const asList = (value) => (Array.isArray(value) ? value : []);

export async function loadQueue() {
  items = asList(await read(QUEUE_KEY, []));
}

export async function addToQueue(item) {
  items = await update(QUEUE_KEY, [], (stored) => [...asList(stored), item]);
  renderBadges();
}

const sameScan = (a, b) => a.nonce === b.nonce && a.code === b.code && a.scanned_at === b.scanned_at;

/** Take scans out of the queue, each once: two scans sharing a nonce are not the same scan (the server
 * refuses the later one, and takes the earlier once it is sent without it). The number taken. */
export async function removeFromQueue(scans) {
  let removed = 0;
  items = await update(QUEUE_KEY, [], (stored) => {
    const kept = [...asList(stored)];
    for (const scan of scans) {
      const index = kept.findIndex((item) => item && sameScan(item, scan));
      if (index !== -1) kept.splice(index, 1);
    }
    removed = asList(stored).length - kept.length;
    return kept;
  });
  return removed;
}

let syncing = false;
let syncDone = Promise.resolve();

/** Settles once the sending under way (if any) is over. */
export const whenSent = () => syncDone;

export function sync() {
  if (syncing || !navigator.onLine) {
    renderBadges();
    return syncDone;
  }
  syncing = true;
  syncDone = sendQueue();
  return syncDone;
}

async function sendQueue() {
  try {
    for (;;) {
      await loadQueue(); // another tab may have queued or sent scans
      const chunk = items.slice(0, BATCH_SIZE);
      if (!chunk.length) {
        break;
      }
      const scans = chunk.map(({ local, ...scan }) => scan);
      let answers;
      try {
        const { body } = await request(config.urls.batch, { method: "POST", body: { scans }, timeout: SYNC_TIMEOUT_MS });
        answers = body.results;
      } catch (error) {
        if (error instanceof ApiError && Number.isInteger(error.body.index)) {
          // A scan the server can never accept (a nonce an earlier scan used): the others are sent again.
          await removeFromQueue([chunk[error.body.index]]);
          continue;
        }
        handleRequestError(error);
        break;
      }
      networkOk(true);
      chunk.forEach((item, i) => {
        onSent(item, answers[i]);
      });
      await removeFromQueue(chunk);
    }
  } finally {
    syncing = false;
    renderBadges();
  }
}

onChange(async (key) => {
  if (key === QUEUE_KEY) {
    await loadQueue();
    renderBadges(); // another tab of this stage queued or sent scans
  }
});
