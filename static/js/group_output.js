// The group's shared output on the participant's group page (templates/groups/participant.html):
// each field saves as JSON with the version it started from; the others' saves arrive as
// "group_output" events (lib/follow_stage.js fetches the group's state). A field being written
// is never overwritten: the page says who changed it meanwhile, and a save from the old version
// is refused by the server with the field as it is now, shown beside the writer's own text.

import { followStage } from "./lib/follow_stage.js";
import { pageConfig } from "./lib/page_config.js";
import { isJson, postJson } from "./lib/post_json.js";

const root = document.querySelector("[data-group-output]");

if (root) {
  const config = pageConfig(root);
  const fields = new Map();
  for (const form of root.querySelectorAll("[data-field]")) {
    const text = form.querySelector("[data-text]");
    fields.set(form.dataset.field, {
      form,
      text,
      version: form.querySelector("[data-version]"),
      status: form.querySelector("[data-status]"),
      base: text.value,
    });
  }

  const dirty = (field) => field.text.value !== field.base;
  const say = (field, message) => {
    field.status.textContent = message;
  };

  function accept(field, value) {
    field.base = value.text;
    field.text.value = value.text;
    field.version.value = String(value.version);
    say(field, value.by ? config.texts.last_saved_by.replace("{name}", value.by) : "");
  }

  function render(data) {
    if (data.group_id !== config.group_id) {
      // Moved to another group (or out of every group): this page shows the old one, whose saves
      // the server refuses; what is typed stays to copy.
      for (const field of fields.values()) say(field, config.texts.moved);
      return;
    }
    for (const [name, value] of Object.entries(data.output || {})) {
      const field = fields.get(name);
      if (!field || value.version <= Number(field.version.value)) continue;
      if (dirty(field)) {
        say(field, config.texts.changed_by.replace("{name}", value.by || "?"));
      } else {
        accept(field, value);
      }
    }
  }

  async function save(field) {
    say(field, config.texts.saving);
    const body = {
      field: field.form.dataset.field,
      text: field.text.value,
      version: Number(field.version.value),
      group_id: config.group_id,
    };
    try {
      const response = await postJson(config.save_url, body, { timeoutMs: 15_000 });
      const reply = isJson(response) ? await response.json() : null;
      if (reply && reply.ok) {
        accept(field, reply);
        say(field, config.texts.saved);
      } else if (reply && reply.current) {
        // Someone saved first: their text goes in, the writer keeps theirs to copy from.
        const mine = field.text.value;
        accept(field, reply.current);
        field.text.value = `${reply.current.text}\n\n${config.texts.your_text}\n${mine}`;
        say(field, reply.message);
      } else {
        say(field, (reply && reply.message) || config.texts.offline);
      }
    } catch {
      say(field, config.texts.offline);
    }
  }

  for (const field of fields.values()) {
    field.form.addEventListener("submit", (event) => {
      event.preventDefault();
      save(field);
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
