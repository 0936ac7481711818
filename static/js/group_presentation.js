// "Presentasi kelompok" on the projector (templates/groups/presentation.html): every group's
// output, kept in step by "group_output" events (lib/follow_stage.js fetches the stage's state);
// the buttons show all groups or one.

import { followStage } from "./lib/follow_stage.js";
import { pageConfig } from "./lib/page_config.js";

const root = document.querySelector("[data-group-presentation]");

if (root) {
  const config = pageConfig(root);

  function render(data) {
    for (const [groupId, output] of Object.entries(data.groups || {})) {
      for (const [name, value] of Object.entries(output)) {
        const element = root.querySelector(`[data-output="${groupId}-${name}"]`);
        if (element) element.textContent = value.text;
      }
    }
  }

  const buttons = root.querySelectorAll("[data-show-group]");
  for (const button of buttons) {
    button.addEventListener("click", () => {
      const chosen = button.dataset.showGroup;
      for (const slide of root.querySelectorAll("[data-group]")) {
        slide.hidden = chosen !== "" && slide.dataset.group !== chosen;
      }
      for (const other of buttons) {
        const pressed = other === button;
        other.setAttribute("aria-pressed", String(pressed));
        other.classList.toggle("outline", !pressed);
      }
    });
  }

  followStage({
    stageId: config.stage_id,
    snapshotUrl: config.state_url,
    socketSrc: root.dataset.socketSrc,
    event: "group_output",
    badge: root.querySelector("[data-live-status]"),
    render,
  });
}
