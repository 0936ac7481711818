// Live presence on the participant page and the live page: while an online stage is running and
// the page is visible, send a heartbeat every minute so that the minutes online are known. Socket.IO when its
// client loads and connects, else a plain HTTP POST (phones on poor connections, proxies that
// break WebSockets). Each heartbeat carries a random nonce, kept when it is retried over HTTP, so
// that it counts once. Configuration comes from [data-presence] elements (the heartbeat's interval
// as the server counts it: workshop/checkin/online.py) and the page's csrf-token meta tag (no
// inline scripts: CSP).

import { clientId } from "./lib/client_id.js";
import { pageSocket } from "./lib/page_socket.js";
import { isJson, postJson } from "./lib/post_json.js";
import { parseWindows, within } from "./lib/windows.js";

const ACK_TIMEOUT_MS = 10_000;
const CONNECT_WAIT_MS = 5_000; // a socket still connecting gets this long before HTTP is used
const MIN_GAP_MS = 15_000; // a page shown again sends at once, but not more often than this

const boxes = [...document.querySelectorAll("[data-presence]")].map((element) => ({
  element,
  stageId: Number(element.dataset.stageId),
  url: element.dataset.url,
  windows: parseWindows(element.dataset.windows),
  lastSent: 0,
}));
const HEARTBEAT_MS = boxes.length ? 1000 * Number(boxes[0].element.dataset.heartbeatSeconds) : 0;

function running(box, now = Date.now()) {
  return within(box.windows, now);
}

function socket() {
  // Loaded only once a stage is running: the participant page stays light before that.
  return pageSocket(boxes[0].element.dataset.socketSrc);
}

function connected(connection) {
  if (connection.connected) return Promise.resolve(true);
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      resolve(true);
    };
    const timer = setTimeout(() => {
      connection.off("connect", done);
      resolve(false);
    }, CONNECT_WAIT_MS);
    connection.once("connect", done);
  });
}

async function viaSocket(payload) {
  const connection = await socket();
  if (!connection || !(await connected(connection))) throw new Error("socket offline");
  return connection.timeout(ACK_TIMEOUT_MS).emitWithAck("presence", payload);
}

async function viaHttp(box, payload) {
  const response = await postJson(box.url, payload);
  if (!isJson(response)) throw new Error("no answer");
  return response.json();
}

async function beat(box) {
  const now = Date.now();
  // Past the stage's last window the server draws no note: a page left open drops it too.
  if (box.windows.length && now > box.windows.at(-1)[1]) box.element.hidden = true;
  if (document.visibilityState !== "visible" || !running(box, now) || now - box.lastSent < MIN_GAP_MS) return;
  box.lastSent = now;
  const payload = { stage_id: box.stageId, nonce: clientId() };
  let ack = null;
  try {
    ack = await viaSocket(payload);
  } catch {
    try {
      ack = await viaHttp(box, payload);
    } catch {
      ack = null; // offline: the next heartbeat tries again
    }
  }
  box.element.dataset.state = ack && ack.ok ? "online" : (ack && ack.error) || "offline";
}

function beatAll() {
  for (const box of boxes) beat(box);
}

if (boxes.length) {
  if (boxes.some((box) => running(box))) socket(); // connect early: the first heartbeat may use it
  setInterval(beatAll, HEARTBEAT_MS);
  document.addEventListener("visibilitychange", beatAll);
  beatAll();
}
