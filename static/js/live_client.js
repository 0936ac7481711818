// The live Q&A and polls client shared by the participant page, the control panel and the
// projector (templates/live/*). One state per page, kept in step with the stage:
// - the JSON snapshot is fetched once at load, while the Socket.IO client loads (static/vendor);
//   then `join_stage`, whose ack says the stage's versions: the snapshot is fetched again only if
//   they moved in between. On every reconnect, and when the browser comes back online, it is fetched
//   (Socket.IO does not replay missed messages); newer versions win, older ones are dropped;
// - without a socket connection after 5 s the page polls the snapshot every 10 s;
// - actions carry a client_id made once per action: sent over the socket with an ack, retried over
//   HTTP with the same client_id when the ack does not come within 8 s (applied once by the server);
// - an action that cannot reach the server (offline, or no answer either way) is queued with its
//   client_id and sent once when the connection is back; the page shows it as waiting meanwhile.
// Configuration comes from data-config on the page's root element (no inline scripts: strict CSP).

import { clientId } from "./lib/client_id.js";
import { fetchSnapshot } from "./lib/fetch_snapshot.js";
import { pageSocket } from "./lib/page_socket.js";
import { isJson, postJson } from "./lib/post_json.js";

const CONNECT_WAIT_MS = 5_000;
const POLL_MS = 10_000;
const ACK_TIMEOUT_MS = 8_000;
const QUEUE_RETRY_MS = 10_000;
const HTTP_TIMEOUT_MS = 15_000; // a network that died without the phone noticing: give up, queue it

/** "/live/7/polls/{id}/{action}" + {id: 3, action: "open"} -> "/live/7/polls/3/open" */
export function fillUrl(template, values) {
  return template.replace(/\{(\w+)\}/g, (_, key) => encodeURIComponent(String(values[key])));
}

/** Fill "{answered} of {present}" style placeholders of a translated text. */
export function format(text, values) {
  return String(text || "").replace(/\{(\w+)\}/g, (whole, key) => (key in values ? String(values[key]) : whole));
}

/** A new element with a class and, optionally, text (always as text: never HTML). */
export function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text != null) node.textContent = String(text);
  return node;
}

function newerResults(known, candidate) {
  if (!candidate) return known || null;
  if (!known || known.poll_id !== candidate.poll_id) return candidate;
  return candidate.version >= known.version ? candidate : known;
}

/**
 * Follow a stage. `onChange(state, why)` gets the merged state after each accepted change:
 * {stage_id, version, settings, poll (with its newest known results), questions, counts, mine}.
 * `onStatus(status)` gets "connecting" | "live" | "polling" | "offline".
 * `onQueued(action, ack)` gets the answer to a queued action once it was sent ({event, body}).
 */
export function connectLive(config, { onChange, onStatus = () => {}, onQueued = () => {} }) {
  const staff = config.role === "staff";
  const resultsByPoll = new Map(); // poll id -> newest RESULTS seen (snapshot or broadcast)
  const pendingIds = new Map(); // action key -> client_id kept until a definite answer
  const queue = new Map(); // queue key -> {event, url, body, payload (with its client_id)}: waiting
  let state = null;
  let socket = null;
  let joined = false;
  let everJoined = false;
  let awaitedVersions = null; // the join's versions, while the load's snapshot is still on its way
  let pollTimer = null;
  let connectTimer = null;
  let queueTimer = null;
  let flushing = false;
  let inFlight = false;
  let again = false;
  let stopped = false;
  let status = "";

  function setStatus(next) {
    if (next !== status) {
      status = next;
      onStatus(next);
    }
  }

  const offline = () => navigator.onLine === false;

  function connectedStatus() {
    if (offline()) return "offline";
    if (joined) return "live";
    return pollTimer !== null ? "polling" : "connecting";
  }

  // The state is as new as the versions a join reported (its results only if this page sees them).
  function upToDate(versions) {
    if (!state || state.version < versions.version) return false;
    const results = state.poll && state.poll.results;
    return !results || versions.results_version == null || results.version >= versions.results_version;
  }

  function current() {
    if (!state) return null;
    const poll = state.poll ? { ...state.poll } : null;
    // Results a participant may not see come as null in the snapshot: they stay hidden then.
    if (poll && (poll.results || staff)) {
      poll.results = newerResults(resultsByPoll.get(poll.id), poll.results);
      if (poll.results) resultsByPoll.set(poll.id, poll.results);
    }
    return { ...state, poll };
  }

  function emitChange(why) {
    const merged = current();
    if (merged) onChange(merged, why);
  }

  // A snapshot replaces the public part when it is not older; `mine` (own answers, upvotes,
  // questions) comes only with the fetched snapshot and is always taken from it.
  function acceptSnapshot(data, { fetched }) {
    if (!data || data.stage_id !== config.stage_id) return false;
    if (state && data.version < state.version) {
      if (fetched && data.mine) {
        state = { ...state, mine: data.mine };
        return true;
      }
      return false;
    }
    // Staff counts (present, online now) change without a new version: take those broadcasts too.
    if (state && data.version === state.version && !fetched && !staff) return false;
    if (fetched && data.server_time) serverClockOffsetMs = Date.parse(data.server_time) - Date.now();
    const mine = fetched ? data.mine : state ? state.mine : null;
    state = { ...data, mine: staff ? null : mine || null };
    return true;
  }

  async function fetchState() {
    if (inFlight) {
      again = true;
      return;
    }
    inFlight = true;
    try {
      const response = await fetchSnapshot(config.state_url);
      const json = isJson(response);
      if (response.status === 401 || (response.ok && !json)) {
        stop(); // logged out (a redirect to the login page): the page shows where to go
        window.location.reload();
        return;
      }
      if (response.status === 403) {
        stop();
        setStatus("offline");
        return;
      }
      if (response.ok && acceptSnapshot(await response.json(), { fetched: true })) emitChange("snapshot");
      setStatus(connectedStatus());
      if (response.ok) flushQueue(); // the server answers again: send what waited
    } catch {
      setStatus("offline"); // the next reconnect, "online" event or poll fetches again
    } finally {
      inFlight = false;
      if (awaitedVersions && !upToDate(awaitedVersions)) again = true;
      awaitedVersions = null;
      if (again && !stopped) {
        again = false;
        fetchState();
      }
    }
  }

  function startPolling() {
    if (pollTimer === null && !stopped) pollTimer = setInterval(fetchState, POLL_MS);
    setStatus(connectedStatus());
  }

  function stopPolling() {
    if (pollTimer !== null) {
      clearInterval(pollTimer);
      pollTimer = null;
    }
  }

  function stop() {
    stopped = true;
    stopPolling();
    clearTimeout(connectTimer);
    clearInterval(queueTimer);
    if (socket) socket.disconnect();
  }

  function onLiveState(data) {
    if (acceptSnapshot(data, { fetched: false })) emitChange("broadcast");
  }

  function onPollResults(message) {
    if (!message || message.stage_id !== config.stage_id || !message.results) return;
    const known = resultsByPoll.get(message.poll_id);
    // An equal version may carry newer "present" counts.
    if (known && known.poll_id === message.poll_id && message.results.version < known.version) return;
    resultsByPoll.set(message.poll_id, message.results);
    if (state && state.poll && state.poll.id === message.poll_id) emitChange("results");
  }

  function wire(connection) {
    socket = connection;
    const join = () => {
      connection.emit("join_stage", { stage_id: config.stage_id }, (answer) => {
        joined = Boolean(answer && answer.ok);
        const first = joined && !everJoined;
        everJoined ||= joined;
        if (joined) {
          stopPolling();
          setStatus(connectedStatus());
        } else {
          startPolling();
        }
        // After joining nothing broadcast is missed: fetch what may have changed before. The first
        // time, the load's snapshot is enough if it is as new as the join's versions.
        if (!first) fetchState();
        else if (inFlight) awaitedVersions = answer;
        else if (!upToDate(answer)) fetchState();
        if (joined) flushQueue();
      });
    };
    connection.on("connect", join);
    // The page's one connection may already be up: another script of the page (presence) opened it.
    if (connection.connected) join();
    connection.on("disconnect", () => {
      joined = false;
      setStatus(connectedStatus());
      clearTimeout(connectTimer);
      connectTimer = setTimeout(() => {
        if (!joined) startPolling();
      }, CONNECT_WAIT_MS);
    });
    connection.on(staff ? "live_staff_state" : "live_state", onLiveState);
    connection.on("poll_results", onPollResults);
    connection.on("mine_changed", () => fetchState());
    if (staff) connection.on("attendance_changed", () => fetchState()); // the live counts
    connection.on("session_ended", () => {
      stop();
      window.location.reload();
    });
  }

  async function start() {
    setStatus("connecting");
    fetchState();
    connectTimer = setTimeout(() => {
      if (!joined) startPolling();
    }, CONNECT_WAIT_MS);
    const connection = await pageSocket(config.socket_src, { reconnectionDelayMax: 10_000 });
    if (!connection || stopped) {
      startPolling();
      return;
    }
    wire(connection);
  }

  window.addEventListener("online", () => {
    if (!stopped) fetchState();
  });
  window.addEventListener("offline", () => setStatus("offline"));

  async function viaHttp(url, payload) {
    const response = await postJson(url, payload, { csrf: config.csrf, timeoutMs: HTTP_TIMEOUT_MS });
    if (!isJson(response)) {
      if (response.status === 429) return { ok: false, error: "rate_limited", message: config.text.rate_limited };
      if (response.redirected || response.status === 401) {
        stop(); // logged out: the page shows where to go
        window.location.reload();
      }
      throw new Error(`no answer (${response.status})`);
    }
    return response.json();
  }

  // One delivery of an action with its client_id: the socket with an ack, else HTTP; null when
  // neither answered.
  async function deliver(event, url, payload) {
    if (offline()) return null;
    if (socket && socket.connected && joined) {
      try {
        return await socket.timeout(ACK_TIMEOUT_MS).emitWithAck(event, payload);
      } catch {
        // no ack in time: the same client_id goes over HTTP
      }
    }
    try {
      const ack = await viaHttp(url, payload);
      if (!joined) fetchState(); // no broadcasts without a socket: fetch what changed
      return ack;
    } catch {
      return null;
    }
  }

  /**
   * Send an action (event name, HTTP url, payload without client_id) and get its ack:
   * {ok: true, ...} or {ok: false, error, message}. Without a connection the action is queued
   * under `queueKey` (a newer action under the same key replaces it) and the answer is
   * {ok: false, error: "queued", message}; the queued action is sent once the connection is back,
   * and its ack goes to onQueued. Staff actions are not queued (a moderator retries by hand).
   */
  async function send(event, url, body, { queueKey = null } = {}) {
    const payload = { stage_id: config.stage_id, ...body };
    const key = `${event} ${JSON.stringify(payload)}`;
    const id = pendingIds.get(key) || clientId();
    pendingIds.set(key, id);
    payload.client_id = id;
    const ack = await deliver(event, url, payload);
    if (!ack && queueKey !== null) {
      pendingIds.delete(key);
      queue.set(queueKey, { event, url, body, payload });
      queueTimer ??= setInterval(flushQueue, QUEUE_RETRY_MS);
      emitChange("queued");
      return { ok: false, error: "queued", message: config.text.waiting_for_connection };
    }
    if (ack && ack.error !== "server_error") pendingIds.delete(key); // else a retry keeps the id
    if (ack && ack.ok) applyAck(event, body, ack);
    return ack || { ok: false, error: "network", message: config.text.network_error };
  }

  // Send the queued actions once each, in order; stop at the first that still gets no answer.
  async function flushQueue() {
    if (flushing || stopped || !queue.size || offline()) return;
    flushing = true;
    try {
      for (const [key, action] of [...queue]) {
        const ack = await deliver(action.event, action.url, action.payload);
        if (!ack || ack.error === "server_error") break; // still unreachable: the same client_id later
        if (queue.get(key) === action) queue.delete(key);
        if (ack.ok) applyAck(action.event, action.body, ack);
        onQueued(action, ack);
      }
    } finally {
      flushing = false;
      if (!queue.size) {
        clearInterval(queueTimer);
        queueTimer = null;
      }
      emitChange("queue");
    }
  }

  /** The actions waiting for the connection: [{event, body}], oldest first. */
  function queued() {
    return [...queue.values()].map(({ event, body }) => ({ event, body }));
  }

  // What an ack tells for sure, shown at once (the broadcast or next snapshot confirms it).
  function applyAck(event, body, ack) {
    if (!state) return;
    if (staff) return;
    const mine = state.mine ? { ...state.mine } : { votes: {}, upvotes: [], questions: [] };
    if (event === "vote" && ack.answer) {
      mine.votes = { ...(mine.votes || {}), [String(ack.poll_id ?? body.poll_id)]: ack.answer };
    } else if (event === "upvote") {
      const id = ack.question_id ?? body.question_id;
      mine.upvotes = [...new Set([...(mine.upvotes || []), id])];
      state.questions = (state.questions || []).map((question) =>
        question.id === id && typeof ack.upvotes === "number" ? { ...question, upvotes: ack.upvotes } : question,
      );
    } else if (event === "ask" && ack.question) {
      const own = mine.questions || [];
      if (!own.some((question) => question.id === ack.question.id)) {
        const { id, text, status, reason } = ack.question;
        mine.questions = [{ id, text, status, reason: reason || "" }, ...own];
      }
      if (ack.question.status === "approved" && !(state.questions || []).some((q) => q.id === ack.question.id)) {
        state.questions = [...(state.questions || []), ack.question];
      }
    }
    state = { ...state, mine };
    emitChange("ack");
  }

  start();
  return { send, queued, refresh: fetchState, stop, get state() { return current(); } };
}

/** Remaining whole seconds until an ISO moment, never negative. */
// The connection badge of a page: "live", "polling" or "offline", in the page's language.
export function showStatus(element, text) {
  return (status) => {
    element.textContent = text[`status_${status}`] || "";
    element.classList.toggle("is-live", status === "live");
    element.dataset.status = status;
  };
}

// How far the server's clock is ahead of this device's (a phone's clock may be minutes off):
// countdowns run on the server's time.
let serverClockOffsetMs = 0;

export function secondsUntil(iso) {
  return Math.max(0, Math.ceil((Date.parse(iso) - (Date.now() + serverClockOffsetMs)) / 1000));
}

export function clock(seconds) {
  const minutes = Math.floor(seconds / 60);
  const rest = String(seconds % 60).padStart(2, "0");
  return `${minutes}:${rest}`;
}

/**
 * Results as bars (single / multiple / rating): one row per option with its count, a bar whose
 * width is set through the CSSOM (allowed by style-src 'self', unlike style attributes) and,
 * with `split`, the luring / daring parts. With a hall hand count the count is hands + online
 * votes, and every page shows the two sources ("Aula: 23 · Daring: 41"), the bar in two parts.
 */
export function renderBars(container, results, text, { split = false, kinds = false } = {}) {
  container.replaceChildren();
  const bars = results.bars || [];
  const hall = Boolean(results.hall && results.hall.entered);
  const most = Math.max(1, ...bars.map((bar) => bar.count));
  const width = (count) => `${(100 * (count || 0)) / most}%`;
  const list = el("ol", "live-bars");
  for (const bar of bars) {
    const row = el("li", "live-bar");
    row.dataset.key = bar.key;
    const head = el("div", "live-bar-head");
    head.append(el("span", "live-bar-label", bar.label), el("strong", "live-bar-count", bar.count));
    const track = el("div", "live-bar-track");
    track.setAttribute("role", "img");
    track.setAttribute("aria-label", `${bar.label}: ${bar.count}`);
    const parts = hall
      ? [
          ["live-bar-hall", bar.hall],
          ["live-bar-online", bar.online],
        ]
      : split
        ? [
            ["live-bar-luring", bar.luring],
            ["live-bar-daring", bar.daring],
          ]
        : [["live-bar-all", bar.count]];
    for (const [name, count] of parts) {
      const fill = el("span", `live-bar-fill ${name}`);
      fill.style.width = width(count);
      track.append(fill);
    }
    row.append(head, track);
    if (hall) {
      const sources = el("small", "live-bar-split live-bar-sources");
      sources.append(
        el("span", "live-hall", format(text.hall_part, { count: bar.hall || 0 })),
        document.createTextNode(" · "),
        el("span", "live-online", format(text.online_part, { count: bar.online || 0 })),
      );
      sources.dataset.hall = String(bar.hall || 0);
      sources.dataset.online = String(bar.online || 0);
      row.append(sources);
    }
    if (split && (!hall || kinds)) {
      const modes = el("small", "live-bar-split live-bar-modes");
      modes.append(
        el("span", "live-luring", `${text.luring} ${bar.luring || 0}`),
        document.createTextNode(" · "),
        el("span", "live-daring", `${text.daring} ${bar.daring || 0}`),
      );
      modes.dataset.luring = String(bar.luring || 0);
      modes.dataset.daring = String(bar.daring || 0);
      row.append(modes);
    }
    if (kinds && bar.by_kind) {
      const labels = results.kind_labels || {};
      const entries = Object.entries(bar.by_kind).filter(([, count]) => count);
      if (entries.length) {
        row.append(el("small", "live-bar-kinds", entries.map(([kind, count]) => `${labels[kind] || kind} ${count}`).join(" · ")));
      }
    }
    list.append(row);
  }
  container.append(list);
}

/** Word cloud: the words as text in five size steps (CSS classes, no inline styles). */
export function renderWords(container, results) {
  container.replaceChildren();
  const words = results.words || [];
  const most = Math.max(1, ...words.map((word) => word.count));
  const cloud = el("ul", "live-words");
  for (const word of words) {
    const item = el("li", `live-word live-word-${1 + Math.round((4 * word.count) / most)}`, word.text);
    item.title = String(word.count);
    item.dataset.count = String(word.count);
    cloud.append(item);
  }
  container.append(cloud);
}

export function renderAnswers(container, results, limit = 200) {
  container.replaceChildren();
  const list = el("ul", "live-answers");
  for (const answer of (results.answers || []).slice(0, limit)) list.append(el("li", "live-answer", answer.text));
  container.append(list);
}

/** Any kind of results: bars, words or answers, plus the "41 of 63 present answered" line. */
export function renderResults(container, poll, text, options = {}) {
  container.replaceChildren();
  const results = poll.results;
  if (!results) return;
  const body = el("div", "live-results-body");
  if (poll.kind === "wordcloud") renderWords(body, results);
  else if (poll.kind === "text") renderAnswers(body, results, options.answerLimit);
  else renderBars(body, results, text, options);
  container.append(body);
  const summary = el("p", "live-results-summary");
  summary.append(
    el("span", "live-answered", format(text.answered_of_present, { answered: results.answered_present, present: results.present })),
  );
  summary.append(document.createTextNode(" · "), el("span", "live-total", format(text.total_answers, { total: results.total })));
  if (poll.kind === "rating" && results.average != null) {
    summary.append(document.createTextNode(" · "), el("span", "live-average", format(text.average, { average: results.average })));
  }
  const hall = Boolean(results.hall && results.hall.entered);
  if (hall) {
    summary.append(
      document.createTextNode(" · "),
      el("span", "live-sources", format(text.hall_total, { hall: results.hall.total, online: results.hall.online })),
    );
  }
  if (options.split && results.groups && (!hall || options.kinds)) {
    summary.append(
      document.createTextNode(" · "),
      el("span", "live-luring", `${text.luring} ${results.groups.luring || 0}`),
      document.createTextNode(" · "),
      el("span", "live-daring", `${text.daring} ${results.groups.daring || 0}`),
    );
  }
  container.append(summary);
}

/** "dari Tahap I" on a question carried from the previous stage, "dibawa ke Tahap II" on one
 * carried to the next (null for the others). */
export function originTag(question, text) {
  if (question.carried_to) {
    return el("mark", "live-tag live-tag-carry", format(text.carried_to, { number: question.carried_to }));
  }
  if (!question.origin) return null;
  const tag = el("mark", "live-tag live-tag-origin", format(text.from_stage, { number: question.origin }));
  tag.dataset.origin = question.origin;
  return tag;
}

/** Carried questions first, then `order`. */
export function carriedFirst(order) {
  return (a, b) => Number(Boolean(b.origin)) - Number(Boolean(a.origin)) || order(a, b);
}

/** Who asked: "Name, affiliation" or the anonymous label. */
export function authorLine(question, text) {
  if (!question.author) return text.anonymous;
  const parts = [question.author.name, question.author.affiliation].filter(Boolean);
  return parts.join(", ");
}
