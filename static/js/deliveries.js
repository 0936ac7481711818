// Live delivery log of a stage (templates/reminders/stage_log.html), from reminders.json,
// refreshed on "deliveries_changed" events (see lib/follow_stage.js).

import { followStage, pick } from "./lib/follow_stage.js";

const root = document.querySelector("[data-deliveries]");

if (root) {
  const stageId = Number(root.dataset.stageId);
  const snapshotUrl = root.dataset.snapshot;
  const badge = root.querySelector("[data-live-badge]");
  const failuresBody = root.querySelector("[data-failures]");
  const failuresTable = root.querySelector("[data-failures-table]");
  const failuresNone = root.querySelector("[data-failures-none]");
  const retryAll = root.querySelector("[data-retry-all]");
  const channelLabels = JSON.parse(failuresBody?.dataset.channelLabels || "{}");

  // The column names, for the cards a phone shows instead of the table (data-label, app.css).
  const columnLabels = [...(failuresTable?.querySelectorAll("thead th") || [])].map((th) => th.textContent.trim());

  function cell(text, column) {
    const td = document.createElement("td");
    td.textContent = text == null ? "" : String(text);
    if (columnLabels[column]) td.dataset.label = columnLabels[column];
    return td;
  }

  function renderFailures(failures) {
    if (!failuresBody) return;
    const rows = failures.map((failure) => {
      const tr = document.createElement("tr");
      const status = failure.status === "failed" ? failuresBody.dataset.failedText : failuresBody.dataset.retryingText;
      tr.append(
        cell(failure.name, 0),
        cell(channelLabels[failure.channel] || failure.channel, 1),
        cell(status, 2),
        cell(failure.attempts, 3),
        cell(failure.error, 4),
      );
      return tr;
    });
    failuresBody.replaceChildren(...rows);
    if (failuresTable) failuresTable.hidden = failures.length === 0;
    if (failuresNone) failuresNone.hidden = failures.length !== 0;
  }

  function render(data) {
    for (const element of root.querySelectorAll("[data-value]")) {
      const value = pick(data, element.dataset.value);
      if (value != null) element.textContent = String(value);
    }
    renderFailures(data.failures || []);
    if (retryAll) retryAll.hidden = !(data.totals && data.totals.failed);
  }

  followStage({ stageId, snapshotUrl, socketSrc: root.dataset.socketSrc, event: "deliveries_changed", badge, render });
}
