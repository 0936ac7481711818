// The facilitator's control panel (templates/live/control.html): live counts, the current poll's
// results with the luring / daring and organisation-kind breakdown, the hall hand count, and the
// moderation queue. The poll list and its open / close / reopen buttons are plain forms rendered
// by the server.

import { connectLive } from "./live_client.js";
import { el, fillUrl, format, showPhase, showStatus } from "./live/page.js";
import { filtered, groupFilter, groupTag } from "./live/groups.js";
import { authorLine, carriedFirst, originTag } from "./live/questions.js";
import { renderResults } from "./live/results.js";
import { followPhase } from "./live/phase.js";
import { pageConfig } from "./lib/page_config.js";
import { isJson, postJson } from "./lib/post_json.js";

const HTTP_TIMEOUT_MS = 15_000;

const STATUS_ORDER = { pending: 0, approved: 1, answered: 2, dismissed: 3 };

const root = document.querySelector('[data-live="control"]');
if (root) start(root);

function start(root) {
  const config = pageConfig(root);
  const text = config.text;
  const $ = (selector) => root.querySelector(selector);
  const ui = {
    status: $("[data-live-status]"),
    counts: [...root.querySelectorAll("[data-count]")],
    pollEmpty: $("[data-current-poll-empty]"),
    poll: $("[data-current-poll]"),
    pollQuestion: $("[data-current-poll-question]"),
    pollStatus: $("[data-current-poll-status]"),
    pollNote: $("[data-current-poll-note]"),
    pollActions: [...root.querySelectorAll("[data-current-action]")],
    results: $("[data-current-results]"),
    kinds: $("[data-current-kinds]"),
    exportCsv: $("[data-export-csv]"),
    exportXlsx: $("[data-export-xlsx]"),
    exportHall: $("[data-export-hall]"),
    exportHallItem: $("[data-export-hall-item]"),
    queue: $("[data-queue]"),
    queueEmpty: $("[data-queue-empty]"),
    hall: $("[data-hall-count]"),
    hallHelp: $("[data-hall-count-help]"),
    hallFields: $("[data-hall-count-fields]"),
    hallSave: $("[data-hall-count-save]"),
    hallMessage: $("[data-hall-count-message]"),
  };
  const hallTyped = new Set(); // answers (option ids, ratings) whose hall count is being typed (kept across redraws)
  const reasons = new Map(); // question id -> the reason being typed (kept across redraws)
  const errors = new Map(); // question id -> the last refusal's message
  let state = null;
  const chosenGroup = groupFilter(root, () => state && renderQueue());

  // The stage starts or ends while the page is open (a hall count or a reason being typed stays): its phase shows in place.
  const checkPhase = followPhase(config, (phase, resumes) => showPhase(root, config, phase, { resumes }));
  const live = connectLive(config, {
    onChange(next) {
      state = next;
      render();
      checkPhase();
    },
    onStatus: showStatus(ui.status, text, config),
  });

  function renderCounts() {
    const counts = state.counts || {};
    for (const element of ui.counts) {
      const value = counts[element.dataset.count];
      element.textContent = value == null ? "-" : String(value);
    }
  }

  function renderPoll() {
    const poll = state.poll;
    ui.pollEmpty.hidden = Boolean(poll);
    ui.poll.hidden = !poll;
    if (!poll) return;
    ui.poll.dataset.pollId = String(poll.id);
    ui.poll.dataset.status = poll.status;
    ui.pollQuestion.textContent = poll.question;
    const pollGroup = groupTag(poll, config.groups);
    if (pollGroup) ui.pollQuestion.append(" ", pollGroup);
    renderPollRow(poll);
    ui.pollStatus.textContent = text[`poll_status_${poll.status}`] || poll.status;
    ui.pollStatus.className = `live-tag live-poll-${poll.status}`;
    const note =
      poll.results_visibility === "hidden"
        ? text.results_hidden_note
        : poll.results_visibility === "after_close"
          ? text.results_after_close_note
          : "";
    ui.pollNote.textContent = note;
    ui.pollNote.hidden = !note;
    for (const form of ui.pollActions) {
      form.action = fillUrl(config.urls.poll_action, { id: poll.id, action: form.dataset.currentAction });
      form.hidden = form.dataset.when !== poll.status;
    }
    if (ui.exportCsv) {
      // only organisers have the export links (voters' names and agencies)
      ui.exportCsv.href = fillUrl(config.urls.export_csv, { id: poll.id });
      ui.exportXlsx.href = fillUrl(config.urls.export_xlsx, { id: poll.id });
      ui.exportHall.href = fillUrl(config.urls.export_hall, { id: poll.id });
      ui.exportHallItem.hidden = countedAnswers(poll).length === 0;
    }
    if (poll.results) {
      renderResults(ui.results, poll, text, { split: true, kinds: true });
      renderKinds(poll.results);
    } else {
      ui.results.replaceChildren();
      ui.kinds.replaceChildren();
    }
    renderHallCount(poll);
  }

  // The answers hands can be counted for: [key, label], keyed as the results' bars are.
  function countedAnswers(poll) {
    if (poll.kind === "rating") {
      return Array.from({ length: poll.scale || 5 }, (_, index) => [String(index + 1), String(index + 1)]);
    }
    if (poll.kind === "single" || poll.kind === "multiple") {
      return poll.options.map((option) => [String(option.id), option.label]);
    }
    return [];
  }

  // One number per option (or rating), filled with the stored counts except where the facilitator is typing.
  function renderHallCount(poll) {
    const answers = countedAnswers(poll);
    ui.hall.hidden = answers.length === 0;
    if (!answers.length) return;
    const results = poll.results || {};
    const open = poll.status === "open";
    const present = results.hall ? results.hall.present : (state.counts || {}).checked_in;
    ui.hallHelp.textContent = open
      ? format(text.hall_count_help, { present: present ?? "-" })
      : text.hall_count_help_closed; // counted then: who is checked in now says nothing of it
    const key = `${poll.id}:${answers.map(([answer]) => answer).join(",")}`;
    if (ui.hall.dataset.key !== key) {
      ui.hall.dataset.key = key;
      ui.hall.dataset.pollId = String(poll.id);
      hallTyped.clear();
      showHallMessage("", "");
      ui.hallFields.replaceChildren(
        ...answers.map(([answer, name]) => {
          const label = el("label", "", name);
          const input = document.createElement("input");
          Object.assign(input, { type: "number", min: "0", max: String(config.limits.hall_count), step: "1" });
          input.inputMode = "numeric";
          input.dataset.answer = answer;
          input.addEventListener("input", () => hallTyped.add(answer));
          label.append(input);
          return label;
        }),
      );
    }
    const counted = new Map((results.bars || []).map((bar) => [bar.key, bar.hall || 0]));
    for (const input of ui.hallFields.querySelectorAll("input")) {
      const answer = input.dataset.answer;
      if (!hallTyped.has(answer)) input.value = String(counted.get(answer) || 0);
      input.disabled = !open;
    }
    ui.hallSave.hidden = !open;
    if (!open) showHallMessage(text.hall_count_closed, "");
    else if (ui.hallMessage.textContent === text.hall_count_closed) showHallMessage("", "");
  }

  function showHallMessage(message, kind) {
    ui.hallMessage.textContent = message;
    ui.hallMessage.hidden = !message;
    ui.hallMessage.className = `live-hall-count-message${kind ? ` is-${kind}` : ""}`;
  }

  async function saveHallCount(event) {
    event.preventDefault();
    const counts = {};
    for (const input of ui.hallFields.querySelectorAll("input")) {
      input.removeAttribute("aria-invalid");
      const number = Number(input.value);
      // Whatever was typed goes as it is when it is no whole number: the server says what is wrong.
      counts[input.dataset.answer] = input.value.trim() !== "" && Number.isInteger(number) ? number : input.value;
    }
    ui.hallSave.disabled = true;
    let ack = null;
    try {
      const url = fillUrl(config.urls.hall_count, { id: ui.hall.dataset.pollId });
      const response = await postJson(url, { counts }, { csrf: config.csrf, timeoutMs: HTTP_TIMEOUT_MS });
      if (isJson(response)) ack = await response.json();
    } catch {
      // no answer: said below
    }
    ui.hallSave.disabled = false;
    if (!ack) {
      showHallMessage(text.network_error, "error");
    } else if (!ack.ok) {
      showHallMessage(ack.message, "error");
      const wrong = ack.field && ui.hallFields.querySelector(`input[data-answer="${ack.field}"]`);
      if (wrong) wrong.setAttribute("aria-invalid", "true");
    } else {
      hallTyped.clear();
      showHallMessage(ack.warning || text.hall_count_saved, ack.warning ? "warning" : "");
      live.refresh();
    }
  }

  ui.hall.addEventListener("submit", saveHallCount);

  // The server-rendered poll list: keep the current poll's row in step (a countdown may close it).
  function renderPollRow(poll) {
    const row = root.querySelector(`[data-poll-row="${poll.id}"]`);
    if (!row || row.dataset.status === poll.status) return;
    row.dataset.status = poll.status;
    const mark = row.querySelector("[data-poll-status]");
    mark.textContent = text[`poll_status_${poll.status}`] || poll.status;
    mark.className = `live-tag live-poll-${poll.status}`;
    for (const form of row.querySelectorAll("form[data-when]")) form.hidden = form.dataset.when !== poll.status;
  }

  function renderKinds(results) {
    ui.kinds.replaceChildren();
    const byKind = (results.groups && results.groups.by_kind) || {};
    const entries = Object.entries(byKind);
    if (!entries.length) return;
    const labels = results.kind_labels || {};
    ui.kinds.append(el("strong", "", `${text.by_kind}: `));
    ui.kinds.append(
      el("span", "", entries.map(([kind, count]) => `${labels[kind] || kind} ${count}`).join(" · ")),
    );
  }

  function sortedQueue(questions) {
    // Carried from the previous stage first: the narasumber takes them up before the new ones.
    return [...questions].sort(
      carriedFirst(
        (a, b) =>
          STATUS_ORDER[a.status] - STATUS_ORDER[b.status] ||
          (a.status === "pending" ? Date.parse(a.created_at) - Date.parse(b.created_at) : 0) ||
          Number(b.pinned) - Number(a.pinned) ||
          b.upvotes - a.upvotes ||
          Date.parse(b.created_at) - Date.parse(a.created_at),
      ),
    );
  }

  function actionsFor(question) {
    const actions = [];
    if (question.status === "pending" || question.status === "dismissed") actions.push("approve");
    if (question.status === "approved") actions.push("answered");
    if (question.status === "approved" || question.status === "answered") actions.push(question.pinned ? "unpin" : "pin");
    if (question.status !== "dismissed") actions.push("dismiss");
    const carriable = question.status === "pending" || question.status === "approved";
    if (config.has_next_stage && carriable && !question.carry_over && !question.carried_to) {
      actions.push("carry");
    }
    if (question.carry_over && !question.carried_to) actions.push("uncarry");
    return actions;
  }

  const ACTION_TEXT = {
    approve: "approve",
    dismiss: "dismiss",
    answered: "mark_answered",
    pin: "pin",
    unpin: "unpin",
    carry: "carry",
    uncarry: "uncarry",
  };

  function renderQueue() {
    const focused = document.activeElement;
    const focusedId = focused && focused.dataset ? focused.dataset.reasonFor : undefined;
    const selection = focusedId ? [focused.selectionStart, focused.selectionEnd] : null;
    const questions = sortedQueue(filtered(state, chosenGroup()).questions || []);
    ui.queue.replaceChildren();
    for (const question of questions) {
      const item = el("li", `live-question live-queue-${question.status}`);
      item.dataset.questionId = String(question.id);
      item.dataset.status = question.status;
      const head = el("div", "live-question-head");
      head.append(el("mark", `live-tag live-status-${question.status}`, text[`status_${question.status}`]));
      if (question.pinned) head.append(" ", el("mark", "live-tag live-tag-pinned", text.pinned));
      const origin = originTag(question, text);
      if (origin) head.append(" ", origin);
      const group = groupTag(question, config.groups);
      if (group) head.append(" ", group);
      if (question.carry_over && !question.carried_to) head.append(" ", el("mark", "live-tag live-tag-carry", text.carry_over));
      head.append(" ", el("small", "live-upvotes", format(text.upvotes_count, { count: question.upvotes })));
      item.append(head, el("p", "live-question-text", question.text));
      const meta = el("small", "live-question-meta", authorLine({ ...question, anonymous: false }, text));
      if (question.anonymous) meta.append(" ", el("em", "", `(${text.anonymous_to_participants})`));
      item.append(meta);
      if (question.status === "dismissed" && question.reason) {
        item.append(el("small", "live-question-reason", format(text.reason, { reason: question.reason })));
      }
      const actions = el("div", "live-question-actions");
      const reason = document.createElement("input");
      reason.type = "text";
      reason.maxLength = 300;
      reason.placeholder = text.reason_placeholder;
      reason.setAttribute("aria-label", text.reason_label);
      reason.title = text.reason_label;
      reason.className = "live-reason";
      reason.dataset.reasonFor = String(question.id);
      reason.value = reasons.get(question.id) || "";
      reason.addEventListener("input", () => reasons.set(question.id, reason.value));
      for (const action of actionsFor(question)) {
        const button = el("button", `small live-action-${action}${action === "dismiss" ? " secondary" : ""}`, text[ACTION_TEXT[action]]);
        button.type = "button";
        button.dataset.action = action;
        button.addEventListener("click", () => moderate(question, action, button));
        actions.append(button);
      }
      if (question.status !== "dismissed") actions.append(reason);
      item.append(actions);
      const error = errors.get(question.id);
      if (error) item.append(el("small", "live-error", error));
      ui.queue.append(item);
    }
    ui.queueEmpty.hidden = questions.length > 0;
    if (focusedId) {
      const again = ui.queue.querySelector(`[data-reason-for="${focusedId}"]`);
      if (again) {
        again.focus();
        again.setSelectionRange(selection[0], selection[1]);
      }
    }
  }

  async function moderate(question, action, button) {
    button.disabled = true;
    errors.delete(question.id);
    const reason = action === "dismiss" ? (reasons.get(question.id) || "").trim() : "";
    const ack = await live.send("moderate", fillUrl(config.urls.moderate, { id: question.id }), {
      question_id: question.id,
      action,
      reason,
    });
    button.disabled = false;
    if (ack.ok) {
      if (action === "dismiss") reasons.delete(question.id);
      live.refresh(); // the staff broadcast follows too; this makes the panel current at once
    } else {
      errors.set(question.id, ack.message || text.network_error);
      if (state) renderQueue();
    }
  }

  function render() {
    if (!state) return;
    renderCounts();
    renderPoll();
    renderQueue();
    root.dataset.version = String(state.version);
  }
}
