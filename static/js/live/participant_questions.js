// The participant page's Q&A (templates/live/participant.html): the stage's questions, sorted by
// popularity or time with carried ones first, upvotes, the form to ask one and the own questions
// with their status (queued ones shown as waiting for the connection).

import { clientId } from "../lib/client_id.js";
import { el, fillUrl, format, message, show } from "./page.js";
import { groupTag } from "./groups.js";
import { authorLine, carriedFirst, originTag } from "./questions.js";

/**
 * The questions part of the page. `state()` is the page's current live state, `problem` shows a
 * refusal and `waiting` finds a queued action (live.js).
 */
export function questionsPanel({ ui, text, limits, config, live, state, problem, waiting }) {
  let sort = "popular";

  function sorted(questions) {
    const byTime = (a, b) => Date.parse(b.created_at) - Date.parse(a.created_at);
    return [...questions].sort(
      carriedFirst(
        (a, b) =>
          Number(b.pinned) - Number(a.pinned) ||
          (sort === "popular" ? b.upvotes - a.upvotes : 0) ||
          byTime(a, b) ||
          b.id - a.id,
      ),
    );
  }

  function renderQuestions() {
    const mine = state().mine || {};
    const ownIds = new Set((mine.questions || []).map((question) => question.id));
    const upvoted = new Set(mine.upvotes || []);
    const questions = sorted(state().questions || []);
    ui.questions.replaceChildren();
    for (const question of questions) {
      const item = el("li", "live-question");
      item.dataset.questionId = String(question.id);
      const body = el("p", "live-question-text", question.text);
      const meta = el("small", "live-question-meta", authorLine(question, text));
      if (question.pinned) meta.prepend(el("mark", "live-tag live-tag-pinned", text.pinned), " ");
      const origin = originTag(question, text);
      if (origin) meta.prepend(origin, " ");
      const group = groupTag(question, config.groups);
      if (group) meta.prepend(group, " ");
      if (question.status === "answered") meta.append(" ", el("mark", "live-tag live-tag-answered", text.answered_badge));
      const own = ownIds.has(question.id);
      if (own) meta.append(" ", el("mark", "live-tag", text.own_question));
      const queued = Boolean(waiting("upvote", (body) => body.question_id === question.id));
      const done = upvoted.has(question.id) || queued;
      // Its name is the words read out, then the count that shows: the arrow is decoration.
      const button = el("button", "live-upvote outline small");
      button.type = "button";
      const arrow = el("span", "", "▲ ");
      arrow.setAttribute("aria-hidden", "true");
      button.append(arrow, el("span", "visually-hidden", `${done ? text.upvoted : text.upvote}: `));
      button.append(el("span", "live-upvote-count", question.upvotes));
      button.setAttribute("aria-pressed", String(done));
      button.title = done ? text.upvoted : text.upvote;
      button.disabled = own || done || config.ended; // an ended stage takes no upvote
      const error = el("small", "live-error");
      error.hidden = true;
      button.addEventListener("click", () => upvote(question, button, error));
      item.append(body, meta, el("div", "live-question-actions"));
      item.lastChild.append(button, error);
      if (queued) {
        const note = el("small", "live-pending", text.waiting_for_connection);
        note.dataset.pending = "";
        item.lastChild.append(note);
      }
      ui.questions.append(item);
    }
    show(ui.questionsEmpty, questions.length === 0);

    ui.myQuestions.replaceChildren();
    const queuedQuestions = live.queued().filter((action) => action.event === "ask");
    for (const action of queuedQuestions) {
      const item = el("li", "live-question live-mine-queued");
      item.dataset.pending = "";
      item.append(el("p", "live-question-text", action.body.text));
      item.append(el("small", "live-question-status", text.waiting_for_connection));
      ui.myQuestions.append(item);
    }
    for (const question of mine.questions || []) {
      const item = el("li", `live-question live-mine-${question.status}`);
      item.dataset.questionId = String(question.id);
      item.append(el("p", "live-question-text", question.text));
      const state_ = el("small", "live-question-status", text[`status_${question.status}`] || question.status);
      item.append(state_);
      if (question.status === "dismissed" && question.reason) {
        item.append(el("small", "live-question-reason", format(text.reason, { reason: question.reason })));
      }
      ui.myQuestions.append(item);
    }
    ui.myQuestionsCount.textContent = String((mine.questions || []).length + queuedQuestions.length);
  }

  async function upvote(question, button, error) {
    button.disabled = true;
    error.hidden = true;
    const ack = await live.send(
      "upvote",
      fillUrl(config.urls.upvote, { id: question.id }),
      { question_id: question.id },
      { queueKey: `upvote ${question.id}` },
    );
    if (!ack.ok && ack.error !== "queued") {
      button.disabled = false;
      problem(error, ack);
    }
  }

  for (const button of ui.sortButtons) {
    button.addEventListener("click", () => {
      sort = button.dataset.sort;
      for (const other of ui.sortButtons) other.setAttribute("aria-pressed", String(other === button));
      if (state()) renderQuestions();
    });
  }

  // ---- asking ------------------------------------------------------------------------------

  // Once the stage has ended the page has no form to ask in (the server takes no question then).
  if (ui.askForm) listenToAsk();

  function count() {
    const left = limits.question_length - ui.askText.value.length;
    ui.askCounter.textContent = format(text.chars_left, { count: left });
    ui.askCounter.classList.toggle("is-low", left <= 20);
  }

  function listenToAsk() {
    ui.askText.addEventListener("input", count);
    count();

    ui.askForm.addEventListener("submit", async (event) => {
      event.preventDefault();
      const value = ui.askText.value.trim();
      message(ui.askError, "");
      message(ui.askOk, "");
      if (!value) {
        ui.askText.focus();
        return;
      }
      ui.askSubmit.disabled = true;
      ui.askSubmit.setAttribute("aria-busy", "true");
      const anonymous = Boolean(state() && state().settings.anonymous_allowed && ui.askAnonymous.checked);
      const body = { text: value, anonymous };
      if (ui.askGroup && ui.askGroup.checked) body.group_id = config.group_id; // to the own group only
      const ack = await live.send("ask", config.urls.ask, body, { queueKey: clientId() });
      ui.askSubmit.disabled = false;
      ui.askSubmit.removeAttribute("aria-busy");
      if (ack.ok || ack.error === "queued") {
        ui.askText.value = "";
        ui.askAnonymous.checked = false;
        count();
        const pending = ack.question && ack.question.status === "pending";
        message(ui.askOk, ack.ok ? (pending ? text.question_sent_pending : text.question_sent) : text.question_queued);
      } else {
        problem(ui.askError, ack);
      }
    });
  }

  // A queued question or upvote was sent now that the connection is back: show how it went.
  function queuedAnswered(action, ack) {
    if (action.event === "ask" && ui.askForm) {
      if (ack.ok) {
        const pending = ack.question && ack.question.status === "pending";
        message(ui.askOk, pending ? text.question_sent_pending : text.question_sent);
      } else {
        if (!ui.askText.value) ui.askText.value = action.body.text; // nothing typed is lost
        count();
        problem(ui.askError, ack);
      }
    } else if (action.event === "upvote" && !ack.ok) {
      const error = ui.questions.querySelector(`[data-question-id="${action.body.question_id}"] .live-error`);
      if (error) problem(error, ack);
    }
  }

  return { render: renderQuestions, queuedAnswered };
}
