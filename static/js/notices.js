// In-app notices on the participant page, pushed live: the server emits "notice" to the
// participant's own room when a reminder or announcement is sent. The page connects only while a
// stage of the programme is on (the windows in data-windows, the stages' days), and from the moment
// the next one opens if the page stays open until then: the rest of the time the notices shown at
// load are all there is, and the page stays light. Text is inserted as text.

import { pageSocket } from "./lib/page_socket.js";
import { parseWindows, untilNext, within } from "./lib/windows.js";

const MAX_TIMER_MS = 2 ** 31 - 1; // setTimeout's limit (about 24 days)
const box = document.querySelector("[data-live-notices]");

// Notices shown at load are folded to their subject; one that arrives while the page is open is
// shown unfolded, and announced.
function show(notice) {
  const details = document.createElement("details");
  details.className = "flash flash-info notice";
  details.open = true;
  details.setAttribute("role", "status");
  const subject = document.createElement("summary");
  subject.textContent = notice.subject || "";
  const text = document.createElement("p");
  text.className = "notice-text";
  text.textContent = notice.text || "";
  details.append(subject, text);
  box.prepend(details);
}

async function connect() {
  const socket = await pageSocket(box.dataset.socketSrc);
  if (!socket) return;
  if (socket.connected) box.dataset.connected = "true";
  socket.on("connect", () => {
    box.dataset.connected = "true";
  });
  socket.on("notice", (notice) => {
    if (notice && (notice.subject || notice.text)) show(notice);
  });
}

function connectWhenOn(windows) {
  if (within(windows)) {
    connect();
    return;
  }
  const wait = untilNext(windows);
  if (wait !== null && wait <= MAX_TIMER_MS) setTimeout(() => connectWhenOn(windows), wait);
}

if (box) connectWhenOn(parseWindows(box.dataset.windows));
