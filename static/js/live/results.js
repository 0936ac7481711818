// A poll's results as the live pages show them: bars, a word cloud or the text answers, and the
// summary line ("41 of 63 present answered", while anyone is present).

import { el, format } from "./page.js";

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
  // Two splits share the bar: by where the votes came from (hands in the hall, votes online) once a
  // hall count is entered, else by the voters' mode. The legend names the split and its colours.
  if (hall || split) {
    const legend = el("p", "live-bars-legend");
    legend.dataset.testid = "bars-legend";
    const [title, first, second] = hall
      ? [text.legend_sources, ["live-hall", text.source_hall], ["live-online", text.source_online]]
      : [text.legend_modes, ["live-luring", text.luring], ["live-daring", text.daring]];
    legend.append(`${title} `, el("span", ...first), " · ", el("span", ...second));
    container.append(legend);
  }
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
      const sources = el("span", "live-bar-sources");
      sources.append(
        el("span", "live-hall", format(text.hall_part, { count: bar.hall || 0 })),
        document.createTextNode(" · "),
        el("span", "live-online", format(text.online_part, { count: bar.online || 0 })),
      );
      sources.dataset.hall = String(bar.hall || 0);
      sources.dataset.online = String(bar.online || 0);
      const line = el("small", "live-bar-split");
      line.append(sources);
      if (split && kinds) line.append(" ", onlineModes(bar, text));
      row.append(line);
    }
    if (split && !hall) {
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

/**
 * Beside a hall count, the online votes by how their voters take part ("Daring: 41 (dari peserta
 * luring 3, daring 38)"): part of the online count, not a second "Luring · Daring" line whose
 * "Daring" would mean something else than the one above it.
 */
function onlineModes(counts, text) {
  const modes = el("span", "live-bar-modes", format(text.online_modes, { luring: counts.luring || 0, daring: counts.daring || 0 }));
  modes.dataset.luring = String(counts.luring || 0);
  modes.dataset.daring = String(counts.daring || 0);
  return modes;
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
  const hall = Boolean(results.hall && results.hall.entered);
  const parts = [];
  // Who is present now: nobody before the stage starts or once it is over, and then it says nothing.
  if (results.present > 0) {
    const answered = { answered: results.answered_present, present: results.present };
    parts.push(el("span", "live-answered", format(text.answered_of_present, answered)));
  }
  // The answers: the online votes, and the hands counted in the hall when there are.
  const total = results.total + (hall ? results.hall.total : 0);
  parts.push(el("span", "live-total", format(text.total_answers, { total })));
  if (poll.kind === "rating" && results.average != null) {
    // In the page's language: "4,25" in Indonesian.
    const average = results.average.toLocaleString(document.documentElement.lang || undefined, { maximumFractionDigits: 2 });
    parts.push(el("span", "live-average", format(text.average, { average })));
  }
  if (hall) {
    const sources = el("span", "live-sources", format(text.hall_total, { hall: results.hall.total, online: results.hall.online }));
    if (options.split && options.kinds && results.groups) {
      const line = el("span");
      line.append(sources, " ", onlineModes(results.groups, text));
      parts.push(line);
    } else {
      parts.push(sources);
    }
  }
  if (options.split && results.groups && !hall) {
    parts.push(
      el("span", "live-luring", `${text.luring} ${results.groups.luring || 0}`),
      el("span", "live-daring", `${text.daring} ${results.groups.daring || 0}`),
    );
  }
  const summary = el("p", "live-results-summary");
  summary.append(...parts.flatMap((part, index) => (index ? [document.createTextNode(" · "), part] : [part])));
  container.append(summary);
}
