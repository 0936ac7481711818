// The certificates page: while a bulk run makes the PDFs, its progress is fetched every second
// and shown; when the run ends the page reloads, with the ZIP's link.

import { fetchSnapshot } from "./lib/fetch_snapshot.js";

const POLL_MS = 1000;
const box = document.querySelector("[data-certificate-progress]");

function fill(template, state) {
  return template.replace("{done}", String(state.done)).replace("{total}", String(state.total));
}

async function poll() {
  let state;
  try {
    const response = await fetchSnapshot(box.dataset.url);
    state = await response.json();
  } catch {
    setTimeout(poll, POLL_MS * 3);
    return;
  }
  const bar = box.querySelector("progress");
  const text = box.querySelector("[data-progress-text]");
  if (bar) {
    bar.max = state.total || 1;
    bar.value = state.done;
  }
  if (state.status === "running") {
    if (text) text.textContent = fill(state.total ? text.dataset.msgRunning : text.dataset.msgReading, state);
    setTimeout(poll, POLL_MS);
  } else {
    window.location.reload();
  }
}

if (box && box.dataset.running === "true") {
  setTimeout(poll, POLL_MS);
}
