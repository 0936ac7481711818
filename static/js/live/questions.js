// How the live pages show a question: where it was carried from or to, who asked, and the order
// that puts carried questions first.

import { el, format } from "./page.js";

/** "dari Tahap I" on a question carried from the previous stage, "dibawa ke Tahap II" on one
 * carried to the next (null for the others). */
export function originTag(question, text) {
  if (question.carried_to) {
    return el("mark", "live-tag live-tag-carry", format(text.carried_to, { number: question.carried_to }));
  }
  if (!question.origin) return null;
  const tag = el("mark", "live-tag live-tag-origin", format(text.from_stage, { number: question.origin }));
  tag.dataset.origin = question.origin;
  return tag;
}

/** Carried questions first, then `order`. */
export function carriedFirst(order) {
  return (a, b) => Number(Boolean(b.origin)) - Number(Boolean(a.origin)) || order(a, b);
}

/** Who asked: "Name, affiliation" or the anonymous label. */
export function authorLine(question, text) {
  if (!question.author) return text.anonymous;
  const parts = [question.author.name, question.author.affiliation].filter(Boolean);
  return parts.join(", ");
}
