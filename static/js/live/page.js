// Small helpers of the live pages (participant, control panel, projector): translated texts with
// placeholders, URLs from templates, elements made with text only (never HTML), the connection badge,
// the stage's phase.

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

// The connection badge of a page: "live", "polling" or "offline", in the page's language. "Live" only
// while the stage runs (config.phase, moved by live/phase.js while the page is open): before or after it
// a connected page shows no connection badge, its phase mark says where the stage stands.
export function showStatus(element, text, config) {
  return (status) => {
    element.textContent = text[`status_${status}`] || "";
    element.classList.toggle("is-live", status === "live");
    element.dataset.status = status;
    element.hidden = status === "live" && config.phase !== "running";
  };
}

// The stage moved to `phase` while the page was open, or a running stage's day began or ended
// (`resumes`: between two days, when it goes on): the page shows what the server draws then, in place
// (no reload: the phones of a whole hall would ask for the page in the same second). The phase mark
// after the connection badge (none while running on the projector: `runningMark`), the parts listed
// for some phases only (data-phases="upcoming running"), and the texts an ended stage has instead
// (data-ended-text).
export function showPhase(root, config, phase, { runningMark = true, resumes = "" } = {}) {
  config.phase = phase;
  config.ended = phase === "ended";
  const badge = root.querySelector("[data-live-status]");
  badge.hidden = badge.dataset.status === "live" && phase !== "running";
  const [kind, label] = {
    running: resumes ? ["resumes", resumes] : ["running", config.text.phase_running],
    ended: ["ended", config.text.phase_ended],
  }[phase] || [phase, ""];
  badge.parentElement.querySelector(".phase")?.remove();
  if (label && (runningMark || phase !== "running")) {
    const mark = el("span", `phase phase-${kind}`, label);
    mark.dataset.testid = `phase-${kind}`;
    badge.after(" ", mark);
  }
  for (const part of root.querySelectorAll("[data-phases]")) {
    part.hidden = !part.dataset.phases.split(" ").includes(phase);
  }
  if (phase === "ended") {
    for (const part of root.querySelectorAll("[data-ended-text]")) part.textContent = part.dataset.endedText;
  }
}

export function show(element, visible) {
  element.hidden = !visible;
}

/** Show a text in an element, or hide the element when there is none. */
export function message(element, value) {
  element.textContent = value || "";
  show(element, Boolean(value));
}
