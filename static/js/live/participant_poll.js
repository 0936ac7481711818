// The participant page's poll (templates/live/participant.html): the current poll with its
// countdown, the answer form of its kind (choices, rating, word cloud, text), the own answer (shown
// as waiting while it is queued) and the results when they may be shown.

import { el, fillUrl, format, message, show } from "./page.js";
import { groupTag } from "./groups.js";
import { renderResults } from "./results.js";
import { clock, secondsUntil } from "./server_clock.js";

/**
 * The poll part of the page. `state()` is the page's current live state, `render()` draws the
 * whole page again, `problem` shows a refusal and `waiting` finds a queued action (live.js).
 */
export function pollPanel({ ui, text, limits, config, live, state, render, problem, waiting }) {
  let formKey = "";
  let words = []; // word cloud: the phrases added, not sent yet
  let wordsPoll = null;
  let countdownTimer = null;

  function myAnswer(poll) {
    const queued = waiting("vote", (body) => body.poll_id === poll.id);
    if (queued) return queued.body.answer;
    const votes = (state().mine && state().mine.votes) || {};
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
    const poll = state().poll;
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
    const group = groupTag(poll, config.groups); // a poll of the participant's own group
    if (group) ui.question.append(" ", group);
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
    const poll = state() && state().poll;
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

  // A queued answer was sent now that the connection is back: show a refusal.
  function queuedAnswered(action, ack) {
    if (action.event === "vote" && !ack.ok) {
      problem(ui.answerError, ack);
      live.refresh();
    }
  }

  return { render: renderPoll, queuedAnswered };
}
