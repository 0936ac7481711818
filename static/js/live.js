// The participant's live page (templates/live/participant.html): the current poll, answered by
// kind, with its results when they may be shown, and the stage's Q&A. State and actions go
// through live_client.js; an answer, question or upvote made without a connection waits there and
// shows as "waiting for connection" until it is sent. Every text from people goes into the page as
// text (textContent).

import {
  authorLine,
  carriedFirst,
  clock,
  connectLive,
  el,
  fillUrl,
  format,
  originTag,
  renderResults,
  secondsUntil,
  showStatus,
} from "./live_client.js";
import { clientId } from "./lib/client_id.js";
import { pageConfig } from "./lib/page_config.js";

const root = document.querySelector('[data-live="participant"]');
if (root) start(root);

function start(root) {
  const config = pageConfig(root);
  const text = config.text;
  const limits = config.limits; // workshop/live/votes.py and services.py
  const $ = (selector) => root.querySelector(selector);
  const ui = {
    status: $("[data-live-status]"),
    waiting: $("[data-poll-waiting]"),
    card: $("[data-poll]"),
    question: $("[data-poll-question]"),
    countdown: $("[data-countdown]"),
    form: $("[data-answer-form]"),
    fields: $("[data-answer-fields]"),
    hint: $("[data-answer-hint]"),
    submit: $("[data-answer-submit]"),
    answerError: $("[data-answer-error]"),
    mine: $("[data-answer-mine]"),
    closed: $("[data-poll-closed]"),
    results: $("[data-results]"),
    resultsNote: $("[data-results-note]"),
    askForm: $("[data-ask-form]"),
    askText: $("[data-ask-text]"),
    askCounter: $("[data-ask-counter]"),
    askAnonymousLabel: $("[data-ask-anonymous-label]"),
    askAnonymous: $("[data-ask-anonymous]"),
    askSubmit: $("[data-ask-submit]"),
    askError: $("[data-ask-error]"),
    askOk: $("[data-ask-ok]"),
    questions: $("[data-questions]"),
    questionsEmpty: $("[data-questions-empty]"),
    myQuestions: $("[data-my-questions]"),
    myQuestionsCount: $("[data-my-questions-count]"),
    sortButtons: [...root.querySelectorAll("[data-sort]")],
  };

  let state = null;
  let sort = "popular";
  let formKey = "";
  let words = []; // word cloud: the phrases added, not sent yet
  let wordsPoll = null;
  let countdownTimer = null;

  const live = connectLive(config, {
    onChange(next) {
      state = next;
      render();
    },
    onStatus: showStatus(ui.status, text),
    onQueued: queuedAnswered,
  });

  const show = (element, visible) => {
    element.hidden = !visible;
  };

  function message(element, value) {
    element.textContent = value || "";
    show(element, Boolean(value));
  }

  // An action without an answer is queued, never refused for the connection: what shows here is
  // the server's own refusal (poll closed, too many questions, ...).
  function problem(element, ack) {
    message(element, ack.message || text.network_error);
  }

  /** The queued action of this kind whose body matches, if any. */
  function waiting(event, match) {
    return live.queued().find((action) => action.event === event && match(action.body)) || null;
  }

  // A queued action was sent now that the connection is back: show how it went.
  function queuedAnswered(action, ack) {
    if (action.event === "ask") {
      if (ack.ok) {
        const pending = ack.question && ack.question.status === "pending";
        message(ui.askOk, pending ? text.question_sent_pending : text.question_sent);
      } else {
        if (!ui.askText.value) ui.askText.value = action.body.text; // nothing typed is lost
        count();
        problem(ui.askError, ack);
      }
    } else if (action.event === "vote" && !ack.ok) {
      problem(ui.answerError, ack);
      live.refresh();
    } else if (action.event === "upvote" && !ack.ok) {
      const error = ui.questions.querySelector(`[data-question-id="${action.body.question_id}"] .live-error`);
      if (error) problem(error, ack);
    }
  }

  // ---- poll --------------------------------------------------------------------------------

  function myAnswer(poll) {
    const queued = waiting("vote", (body) => body.poll_id === poll.id);
    if (queued) return queued.body.answer;
    const votes = (state.mine && state.mine.votes) || {};
    return votes[String(poll.id)] || null;
  }

  function canAnswer(poll, answer) {
    if (poll.status !== "open") return false;
    if (poll.closes_at && secondsUntil(poll.closes_at) <= 0) return false;
    return !answer || poll.allow_change || Boolean(waiting("vote", (body) => body.poll_id === poll.id));
  }

  function describe(poll, answer) {
    if (!answer) return "";
    if (answer.option_ids) {
      return poll.options
        .filter((option) => answer.option_ids.includes(option.id))
        .map((option) => option.label)
        .join(", ");
    }
    if (answer.rating != null) return `${answer.rating} / ${poll.scale || 5}`;
    if (answer.words) return answer.words.join(", ");
    return answer.text || "";
  }

  function renderPoll() {
    const poll = state.poll;
    show(ui.waiting, !poll);
    show(ui.card, Boolean(poll));
    if (!poll) {
      formKey = "";
      stopCountdown();
      return;
    }
    ui.card.dataset.pollId = String(poll.id);
    ui.card.dataset.status = poll.status;
    ui.question.textContent = poll.question;
    const answer = myAnswer(poll);
    const open = canAnswer(poll, answer);
    const key = JSON.stringify([poll.id, poll.status, poll.allow_change, answer, open]);
    if (key !== formKey) {
      formKey = key;
      buildForm(poll, answer, open);
    }
    ui.mine.replaceChildren();
    if (answer) {
      ui.mine.append(el("strong", "", `${text.your_answer}: `), el("span", "live-mine-text", describe(poll, answer)));
      if (waiting("vote", (body) => body.poll_id === poll.id)) {
        const note = el("small", "live-pending", text.answer_queued);
        note.dataset.pending = "";
        ui.mine.append(el("br"), note);
      }
    }
    show(ui.mine, Boolean(answer));
    show(ui.closed, poll.status !== "open");
    renderPollResults(poll, answer);
    startCountdown(poll);
  }

  function renderPollResults(poll, answer) {
    if (poll.results) {
      renderResults(ui.results, poll, text);
      const chosen = answer ? (answer.option_ids || [answer.rating]).map(String) : [];
      for (const row of ui.results.querySelectorAll("[data-key]")) {
        row.classList.toggle("is-mine", chosen.includes(row.dataset.key));
      }
      show(ui.results, true);
      show(ui.resultsNote, false);
    } else {
      ui.results.replaceChildren();
      show(ui.results, false);
      const note =
        poll.results_visibility === "hidden"
          ? text.results_hidden
          : poll.results_visibility === "after_close" && poll.status === "open"
            ? text.results_after_close
            : "";
      message(ui.resultsNote, note);
    }
  }

  function buildForm(poll, answer, open) {
    ui.fields.replaceChildren();
    message(ui.answerError, "");
    message(ui.hint, "");
    show(ui.form, open);
    if (!open) return;
    ui.fields.disabled = false;
    ui.submit.textContent = answer ? text.change_answer : text.send_answer;
    show(ui.submit, poll.kind !== "rating");
    if (poll.kind === "single" || poll.kind === "multiple") choiceFields(poll, answer);
    else if (poll.kind === "rating") ratingFields(poll, answer);
    else if (poll.kind === "wordcloud") wordFields(poll, answer);
    else textFields(answer);
  }

  function choiceFields(poll, answer) {
    const multiple = poll.kind === "multiple";
    const chosen = new Set(answer ? answer.option_ids : []);
    for (const option of poll.options) {
      const label = el("label", "live-option");
      const input = document.createElement("input");
      input.type = multiple ? "checkbox" : "radio";
      input.name = "option";
      input.value = String(option.id);
      input.checked = chosen.has(option.id);
      if (input.checked) label.classList.add("is-mine");
      label.append(input, document.createTextNode(" "), el("span", "", option.label));
      ui.fields.append(label);
    }
    if (multiple && poll.max_choices) {
      message(ui.hint, format(text.choose_at_most, { max: poll.max_choices }));
      const limit = () => {
        const boxes = [...ui.fields.querySelectorAll("input[type=checkbox]")];
        const full = boxes.filter((box) => box.checked).length >= poll.max_choices;
        for (const box of boxes) box.disabled = full && !box.checked;
      };
      for (const box of ui.fields.querySelectorAll("input[type=checkbox]")) box.addEventListener("change", limit);
      limit();
    }
  }

  function ratingFields(poll, answer) {
    const scale = el("div", "live-rating");
    scale.setAttribute("role", "group");
    scale.setAttribute("aria-label", poll.question);
    for (let value = 1; value <= (poll.scale || 5); value += 1) {
      const button = el("button", "live-rate outline", value);
      button.type = "button";
      button.value = String(value);
      button.setAttribute("aria-pressed", String(Boolean(answer && answer.rating === value)));
      button.addEventListener("click", () => vote(poll, { rating: value }, button));
      scale.append(button);
    }
    ui.fields.append(scale);
  }

  function wordFields(poll, answer) {
    if (wordsPoll !== poll.id) {
      wordsPoll = poll.id;
      words = answer && answer.words ? [...answer.words] : [];
    }
    message(ui.hint, format(text.words_limit, { max: limits.words }));
    const row = el("div", "live-word-input");
    const input = document.createElement("input");
    input.type = "text";
    input.maxLength = limits.word_length;
    input.placeholder = text.word_placeholder;
    input.setAttribute("aria-label", text.word_placeholder);
    input.dataset.wordInput = "";
    const add = el("button", "outline", text.add_word);
    add.type = "button";
    const chips = el("ul", "live-chips");
    const redraw = () => {
      chips.replaceChildren();
      words.forEach((word, index) => {
        const chip = el("li", "live-chip");
        const remove = el("button", "live-chip-remove", "×");
        remove.type = "button";
        remove.setAttribute("aria-label", `${text.remove}: ${word}`);
        remove.addEventListener("click", () => {
          words.splice(index, 1);
          redraw();
        });
        chip.append(el("span", "", word), remove);
        chips.append(chip);
      });
      const full = words.length >= limits.words;
      input.disabled = full;
      add.disabled = full;
    };
    const addWord = () => {
      const word = input.value.split(/\s+/).filter(Boolean).join(" ");
      if (word && words.length < limits.words && !words.some((known) => known.toLowerCase() === word.toLowerCase())) {
        words.push(word);
      }
      input.value = "";
      redraw();
      input.focus();
    };
    add.addEventListener("click", addWord);
    input.addEventListener("keydown", (event) => {
      if (event.key === "Enter") {
        event.preventDefault();
        addWord();
      }
    });
    row.append(input, add);
    ui.fields.append(row, chips);
    redraw();
  }

  function textFields(answer) {
    const area = document.createElement("textarea");
    area.name = "text";
    area.rows = 3;
    area.maxLength = limits.text_length;
    area.placeholder = text.text_placeholder;
    area.setAttribute("aria-label", text.text_placeholder);
    area.value = answer && answer.text ? answer.text : "";
    ui.fields.append(area);
  }

  function answerFromForm(poll) {
    if (poll.kind === "single" || poll.kind === "multiple") {
      const ids = [...ui.fields.querySelectorAll("input[name=option]:checked")].map((input) => Number(input.value));
      return ids.length ? { option_ids: ids } : null;
    }
    if (poll.kind === "wordcloud") {
      const pending = ui.fields.querySelector("[data-word-input]");
      const last = pending ? pending.value.split(/\s+/).filter(Boolean).join(" ") : "";
      const all = last && words.length < limits.words ? [...words, last] : words;
      return all.length ? { words: all } : null;
    }
    if (poll.kind === "text") {
      const value = ui.fields.querySelector("textarea").value.trim();
      return value ? { text: value } : null;
    }
    return null;
  }

  async function vote(poll, answer, button) {
    if (!answer) return;
    message(ui.answerError, "");
    ui.fields.disabled = true;
    ui.submit.disabled = true;
    if (button) button.setAttribute("aria-busy", "true");
    const ack = await live.send(
      "vote",
      fillUrl(config.urls.vote, { id: poll.id }),
      { poll_id: poll.id, answer },
      { queueKey: `vote ${poll.id}` },
    );
    ui.fields.disabled = false;
    ui.submit.disabled = false;
    if (button) button.removeAttribute("aria-busy");
    if (ack.ok || ack.error === "queued") {
      if (ack.ok && poll.kind === "wordcloud") words = ack.answer && ack.answer.words ? [...ack.answer.words] : [];
      formKey = ""; // rebuilt with the answer marked
      render();
    } else {
      problem(ui.answerError, ack);
      if (ack.error === "poll_closed" || ack.error === "already_voted") live.refresh();
    }
  }

  ui.form.addEventListener("submit", (event) => {
    event.preventDefault();
    const poll = state && state.poll;
    if (!poll) return;
    const answer = answerFromForm(poll);
    if (answer) vote(poll, answer);
  });

  function stopCountdown() {
    clearInterval(countdownTimer);
    countdownTimer = null;
    show(ui.countdown, false);
  }

  let refreshedAtZero = "";

  function startCountdown(poll) {
    if (poll.status !== "open" || !poll.closes_at) {
      stopCountdown();
      return;
    }
    const tick = () => {
      const left = secondsUntil(poll.closes_at);
      ui.countdown.textContent = left > 0 ? format(text.closes_in, { time: clock(left) }) : text.time_up;
      ui.countdown.classList.toggle("is-ending", left <= 10);
      if (left <= 0) {
        clearInterval(countdownTimer);
        countdownTimer = null;
        formKey = "";
        show(ui.form, false);
        const key = `${poll.id} ${poll.closes_at}`;
        if (refreshedAtZero !== key) {
          refreshedAtZero = key;
          live.refresh(); // the server closes it: fetch that, once
        }
      }
    };
    show(ui.countdown, true);
    clearInterval(countdownTimer);
    countdownTimer = setInterval(tick, 1000);
    tick();
  }

  // ---- questions ---------------------------------------------------------------------------

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
    const mine = state.mine || {};
    const ownIds = new Set((mine.questions || []).map((question) => question.id));
    const upvoted = new Set(mine.upvotes || []);
    const questions = sorted(state.questions || []);
    ui.questions.replaceChildren();
    for (const question of questions) {
      const item = el("li", "live-question");
      item.dataset.questionId = String(question.id);
      const body = el("p", "live-question-text", question.text);
      const meta = el("small", "live-question-meta", authorLine(question, text));
      if (question.pinned) meta.prepend(el("mark", "live-tag live-tag-pinned", text.pinned), " ");
      const origin = originTag(question, text);
      if (origin) meta.prepend(origin, " ");
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
      button.disabled = own || done;
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
      if (state) renderQuestions();
    });
  }

  // ---- asking ------------------------------------------------------------------------------

  function count() {
    const left = limits.question_length - ui.askText.value.length;
    ui.askCounter.textContent = format(text.chars_left, { count: left });
    ui.askCounter.classList.toggle("is-low", left <= 20);
  }
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
    const anonymous = Boolean(state && state.settings.anonymous_allowed && ui.askAnonymous.checked);
    const ack = await live.send("ask", config.urls.ask, { text: value, anonymous }, { queueKey: clientId() });
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

  // ---- everything --------------------------------------------------------------------------

  function render() {
    if (!state) return;
    show(ui.askAnonymousLabel, Boolean(state.settings && state.settings.anonymous_allowed));
    renderPoll();
    renderQuestions();
    root.dataset.version = String(state.version);
  }
}
