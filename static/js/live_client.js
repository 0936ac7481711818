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
import { setServerTime } from "./live/server_clock.js";

const CONNECT_WAIT_MS = 5_000;
const POLL_MS = 10_000;
const ACK_TIMEOUT_MS = 8_000;
const QUEUE_RETRY_MS = 10_000;
const HTTP_TIMEOUT_MS = 15_000; // a network that died without the phone noticing: give up, queue it

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
 * `onGroupChanged(groupId)` (participants) gets their new group in the stage (null: none) when they move.
 */
export function connectLive(
  config,
  { onChange, onStatus = () => {}, onQueued = () => {}, onGroupChanged = () => {} },
) {
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
    if (fetched && data.server_time) setServerTime(data.server_time);
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

  // The participant's group in the stage, as the server last said (a move, or a join's ack: a move
  // missed while the connection was down shows on the next join).
  function followGroup(groupId) {
    if (groupId === (config.group_id ?? null)) return;
    config.group_id = groupId;
    onGroupChanged(groupId);
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
        if (joined && !staff) followGroup(answer.group_id ?? null);
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
    // Moved to another group: join again (into the new group's room) and fetch the state.
    connection.on("group_changed", (message) => {
      if (!message || message.stage_id !== config.stage_id) return;
      followGroup(message.group_id ?? null);
      if (connection.connected) join();
    });
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
