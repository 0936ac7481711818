// Small helpers of the live pages (participant, control panel, projector): translated texts with
// placeholders, URLs from templates, elements made with text only (never HTML), the connection badge.

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
// while the stage runs (config.phase): before or after it a connected page shows no connection badge,
// its phase mark says where the stage stands.
export function showStatus(element, text, phase) {
  return (status) => {
    element.textContent = text[`status_${status}`] || "";
    element.classList.toggle("is-live", status === "live");
    element.dataset.status = status;
    element.hidden = status === "live" && phase !== "running";
  };
}

export function show(element, visible) {
  element.hidden = !visible;
}

/** Show a text in an element, or hide the element when there is none. */
export function message(element, value) {
  element.textContent = value || "";
  show(element, Boolean(value));
}
