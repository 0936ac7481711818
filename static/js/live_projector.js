// The projector view (templates/live/projector.html): the current poll's results in large type,
// with counts and the luring / daring split, and the top shown questions (pinned first, then by
// upvotes) beside it, or on the whole screen when there is no poll. Anonymous askers stay
// unnamed here even though the staff state names them.

import { connectLive } from "./live_client.js";
import { el, format, showPhase, showStatus } from "./live/page.js";
import { filtered, groupFilter, groupTag } from "./live/groups.js";
import { authorLine, carriedFirst, originTag } from "./live/questions.js";
import { renderResults } from "./live/results.js";
import { clock, secondsUntil } from "./live/server_clock.js";
import { followPhase } from "./live/phase.js";
import { pageConfig } from "./lib/page_config.js";

// As many as the screen holds at the projector's type sizes (static/css/live.css), 720p to 1080p.
const QUESTIONS_BESIDE_POLL = 2;
const QUESTIONS_ALONE = 5;
const ANSWERS_SHOWN = 12;

const root = document.querySelector('[data-live="projector"]');
if (root) start(root);

// The join link stays on one line however long the address: its type shrinks to the column's width.
function fitOnOneLine(element) {
  element.style.fontSize = "";
  const share = element.clientWidth / element.scrollWidth;
  if (share < 1) element.style.fontSize = `${Math.floor(parseFloat(getComputedStyle(element).fontSize) * share)}px`;
}

function start(root) {
  const joinUrl = root.querySelector("[data-fit-line]");
  fitOnOneLine(joinUrl);
  window.addEventListener("resize", () => fitOnOneLine(joinUrl));
  const config = pageConfig(root);
  const text = config.text;
  const $ = (selector) => root.querySelector(selector);
  const ui = {
    status: $("[data-live-status]"),
    poll: $("[data-projector-poll]"),
    pollQuestion: $("[data-projector-poll-question]"),
    countdown: $("[data-countdown]"),
    results: $("[data-projector-results]"),
    questionsBox: $("[data-projector-questions-box]"),
    questions: $("[data-projector-questions]"),
    questionsEmpty: $("[data-projector-questions-empty]"),
  };
  let latest = null;
  let state = null;
  let timer = null;
  // The group filter: everything, the stage's own items, or one group's (for its presentation).
  const chosenGroup = groupFilter(root, () => latest && show(latest));
  function show(next) {
    latest = next;
    state = filtered(next, chosenGroup());
    render();
  }

  // The stage starts or ends while the page is open (a screen left on all day): its phase shows in place.
  const checkPhase = followPhase(config, (phase) => showPhase(root, config, phase, { runningMark: false }));
  connectLive(config, {
    onChange(next) {
      show(next);
      checkPhase();
    },
    onStatus: showStatus(ui.status, text, config),
  });

  function topQuestions(limit) {
    return (state.questions || [])
      .filter((question) => question.status === "approved" && !question.carry_over) // deferred: not now
      .sort(
        carriedFirst(
          (a, b) =>
            Number(b.pinned) - Number(a.pinned) ||
            b.upvotes - a.upvotes ||
            Date.parse(a.created_at) - Date.parse(b.created_at),
        ),
      )
      .slice(0, limit);
  }

  function renderQuestions(limit) {
    const questions = topQuestions(limit);
    ui.questions.replaceChildren();
    for (const question of questions) {
      const item = el("li", `live-question${question.pinned ? " is-pinned" : ""}`);
      item.dataset.questionId = String(question.id);
      const votes = el("span", "live-projector-upvotes", `▲ ${question.upvotes}`);
      const body = el("div", "live-projector-question-body");
      body.append(el("p", "live-question-text", question.text));
      const who = question.anonymous ? text.anonymous : authorLine(question, text); // the hall sees it
      const meta = el("small", "live-question-meta", who);
      if (question.pinned) meta.prepend(el("mark", "live-tag live-tag-pinned", text.pinned), " ");
      const origin = originTag(question, text);
      if (origin) meta.prepend(origin, " ");
      const group = groupTag(question, config.groups);
      if (group) meta.prepend(group, " ");
      body.append(meta);
      item.append(votes, body);
      ui.questions.append(item);
    }
    ui.questionsEmpty.hidden = questions.length > 0;
  }

  function renderCountdown(poll) {
    clearInterval(timer);
    timer = null;
    if (poll.status !== "open" || !poll.closes_at) {
      ui.countdown.textContent = poll.status === "open" ? "" : text.poll_closed;
      ui.countdown.hidden = poll.status === "open";
      return;
    }
    const tick = () => {
      const left = secondsUntil(poll.closes_at);
      ui.countdown.textContent = left > 0 ? format(text.closes_in, { time: clock(left) }) : text.time_up;
      if (left <= 0) {
        clearInterval(timer);
        timer = null;
      }
    };
    ui.countdown.hidden = false;
    timer = setInterval(tick, 1000);
    tick();
  }

  // The screen faces the hall: results only as participants may see them (the staff state that
  // feeds this page has them always).
  function shownToTheHall(poll) {
    return (
      poll.results_visibility === "live" || (poll.results_visibility === "after_close" && poll.status === "closed")
    );
  }

  function render() {
    if (!state) return;
    const poll = state.poll;
    root.classList.toggle("has-poll", Boolean(poll));
    ui.poll.hidden = !poll;
    if (poll) {
      ui.poll.dataset.pollId = String(poll.id);
      ui.poll.dataset.status = poll.status;
      ui.pollQuestion.textContent = poll.question;
      const pollGroup = groupTag(poll, config.groups);
      if (pollGroup) ui.pollQuestion.append(" ", pollGroup);
      if (poll.results && shownToTheHall(poll)) {
        renderResults(ui.results, poll, text, { split: true, answerLimit: ANSWERS_SHOWN });
      } else {
        ui.results.replaceChildren();
      }
      renderCountdown(poll);
    } else {
      clearInterval(timer);
    }
    renderQuestions(poll ? QUESTIONS_BESIDE_POLL : QUESTIONS_ALONE);
    root.dataset.version = String(state.version);
  }
}
