// Group Q&A and polls (workshop/groups): a question or poll may belong to one group of the stage
// (its `group_id`); `config.groups` names the stage's groups. A participant sees the stage's items
// and their own group's; the control panel and the projector filter by "all", "plenary" or a group.

import { el } from "./page.js";

function keeping(state, keep) {
  return {
    ...state,
    questions: (state.questions || []).filter(keep),
    poll: state.poll && keep(state.poll) ? state.poll : null,
  };
}

/** The state as a participant sees it: the stage's items and their own group's. */
export function forMyGroup(state, groupId) {
  return keeping(state, (item) => item.group_id == null || item.group_id === groupId);
}

/** The state under a filter: "" everything, "plenary" the stage's own items, else a group's id. */
export function filtered(state, choice) {
  if (!choice) return state;
  return keeping(state, (item) =>
    choice === "plenary" ? item.group_id == null : String(item.group_id) === choice,
  );
}

/** The group's name on one of its items (null for the stage's own). */
export function groupTag(item, groups) {
  if (item.group_id == null) return null;
  const tag = el("mark", "live-tag live-tag-group", (groups || {})[String(item.group_id)] || "");
  tag.dataset.group = String(item.group_id);
  return tag;
}

/** Follow the page's group filter (a <select data-group-filter>, absent without groups). */
export function groupFilter(root, onChange) {
  const select = root.querySelector("[data-group-filter]");
  if (!select) return () => "";
  select.addEventListener("change", onChange);
  return () => select.value;
}
