// Roster upload with progress: sends the form with XMLHttpRequest (upload progress events),
// shows a "checking the rows" state while the server reads the file, then opens the preview.
// Without JavaScript the form posts normally and the server redirects to the preview.

const form = document.querySelector("form[data-roster-upload]");

if (form) {
  const box = document.getElementById("roster-progress");
  const bar = box.querySelector("progress");
  const status = box.querySelector("[data-status]");
  const errors = document.getElementById("roster-errors");
  const button = form.querySelector("button[type=submit]");
  const messages = form.dataset;

  const showErrors = (list) => {
    errors.replaceChildren(
      ...list.map((text) => {
        const line = document.createElement("p");
        line.className = "flash flash-danger";
        line.dataset.testid = "upload-error";
        line.textContent = text;
        return line;
      }),
    );
    errors.hidden = false;
  };

  const reset = () => {
    box.hidden = true;
    button.disabled = false;
    button.removeAttribute("aria-busy");
  };

  form.addEventListener("submit", (event) => {
    const file = form.elements.file.files[0];
    if (!file) {
      return; // the browser reports the required field
    }
    event.preventDefault();
    errors.hidden = true;
    if (file.size > Number(messages.maxBytes)) {
      showErrors([messages.msgTooLarge]);
      return;
    }

    const request = new XMLHttpRequest();
    request.open("POST", form.action);
    request.setRequestHeader("Accept", "application/json");

    request.upload.addEventListener("progress", (progress) => {
      if (progress.lengthComputable) {
        const percent = Math.round((progress.loaded / progress.total) * 100);
        bar.value = percent;
        status.textContent = messages.msgUploading.replace("{percent}", String(percent));
      }
    });
    request.upload.addEventListener("load", () => {
      bar.removeAttribute("value"); // indeterminate while the server checks the rows
      status.textContent = messages.msgProcessing;
      box.dataset.state = "processing";
    });
    request.addEventListener("load", () => {
      let body = null;
      try {
        body = JSON.parse(request.responseText);
      } catch {
        body = null;
      }
      if (request.status === 200 && body && body.location) {
        bar.value = 100;
        status.textContent = messages.msgDone;
        box.dataset.state = "done";
        window.location.assign(body.location);
        return;
      }
      reset();
      if (request.status === 413) {
        showErrors([messages.msgTooLarge]);
      } else if (body && Array.isArray(body.errors) && body.errors.length) {
        showErrors(body.errors);
      } else {
        showErrors([messages.msgFailed]);
      }
    });
    request.addEventListener("error", () => {
      reset();
      showErrors([messages.msgFailed]);
    });

    bar.value = 0;
    status.textContent = messages.msgUploading.replace("{percent}", "0");
    box.dataset.state = "uploading";
    box.hidden = false;
    button.disabled = true;
    button.setAttribute("aria-busy", "true");
    request.send(new FormData(form));
  });
}
