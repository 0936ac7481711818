// The participant's live page (templates/live/participant.html): the current poll, answered by
// kind, with its results when they may be shown (live/participant_poll.js), and the stage's Q&A
// (live/participant_questions.js). State and actions go through live_client.js; an answer,
// question or upvote made without a connection waits there and shows as "waiting for connection"
// until it is sent. Every text from people goes into the page as text (textContent).

import { pageConfig } from "./lib/page_config.js";
import { connectLive } from "./live_client.js";
import { forMyGroup } from "./live/groups.js";
import { message, show, showPhase, showStatus } from "./live/page.js";
import { pollPanel } from "./live/participant_poll.js";
import { questionsPanel } from "./live/participant_questions.js";
import { followPhase } from "./live/phase.js";

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
    askGroup: $("[data-ask-group]"),
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
  let poll = null;
  let questions = null;

  // Moved to another group (the state follows by itself): the parts of the page that name the group
  // (the group card with its leader and breakout link, "ask my group only") are drawn again as the
  // server draws them now (escaped there like the page); without an answer they empty, so that
  // nothing names the old group.
  const partsUrl = $("[data-group-parts-url]").dataset.groupPartsUrl;
  let redraws = 0;
  async function redrawGroupParts() {
    const redraw = ++redraws;
    let fresh = null;
    try {
      const response = await fetch(partsUrl, { credentials: "same-origin", cache: "no-store" });
      if (response.ok) fresh = new DOMParser().parseFromString(await response.text(), "text/html");
    } catch {
      // offline: the parts empty; the next move or load draws them
    }
    if (redraw !== redraws) return; // a later move is being drawn
    for (const part of root.querySelectorAll("[data-group-part]")) {
      const drawn = fresh && fresh.querySelector(`[data-group-part="${part.dataset.groupPart}"]`);
      part.replaceChildren(...(drawn ? [...drawn.childNodes].map((node) => document.importNode(node, true)) : []));
    }
    ui.askGroup = $("[data-ask-group]");
  }

  let checkPhase = () => {};
  const live = connectLive(config, {
    onChange(next) {
      state = forMyGroup(next, config.group_id); // other groups' questions and polls are theirs
      render();
      checkPhase();
    },
    onStatus: showStatus(ui.status, text, config),
    onGroupChanged: redrawGroupParts,
    // A queued action was sent now that the connection is back: its panel shows how it went.
    onQueued(action, ack) {
      poll.queuedAnswered(action, ack);
      questions.queuedAnswered(action, ack);
    },
  });

  // An action without an answer is queued, never refused for the connection: what shows here is
  // the server's own refusal (poll closed, too many questions, ...).
  function problem(element, ack) {
    message(element, ack.message || text.network_error);
  }

  /** The queued action of this kind whose body matches, if any. */
  function waiting(event, match) {
    return live.queued().find((action) => action.event === event && match(action.body)) || null;
  }

  const page = { ui, text, limits, config, live, state: () => state, render, problem, waiting };
  poll = pollPanel(page);
  questions = questionsPanel(page);
  // The stage starts or ends while the page is open: the question form, the WhatsApp switch and the
  // upvotes follow (an ended stage takes none), with no request.
  checkPhase = followPhase(config, (phase, resumes) => {
    showPhase(root, config, phase, { resumes });
    render();
  });

  function render() {
    if (!state) return;
    if (ui.askAnonymousLabel) show(ui.askAnonymousLabel, Boolean(state.settings && state.settings.anonymous_allowed));
    poll.render();
    questions.render();
    root.dataset.version = String(state.version);
  }
}
