// Asks before an action that cannot simply be taken back: a submit button (or form) with
// data-confirm="<the consequence>", data-confirm-ok="<the action>", data-confirm-cancel="<back>".
// A dialog shows the consequence; the form is sent only after the action's own button is pressed.
// "{n}" in the question becomes the number of ticked boxes named by data-confirm-count.
// Loaded by app.js on pages that have such buttons (no inline scripts: the CSP is strict).

let confirmed = null; // the form whose submit was just confirmed: let it through once

function ask(question, ok, cancel) {
  return new Promise((resolve) => {
    const dialog = document.createElement("dialog");
    dialog.className = "confirm-dialog";
    dialog.dataset.testid = "confirm-dialog";
    const article = document.createElement("article");
    const text = document.createElement("p");
    text.textContent = question;
    const footer = document.createElement("footer");
    const back = document.createElement("button");
    back.type = "button";
    back.className = "secondary";
    back.textContent = cancel;
    const go = document.createElement("button");
    go.type = "button";
    go.className = "danger";
    go.textContent = ok;
    footer.append(back, go);
    article.append(text, footer);
    dialog.append(article);
    document.body.append(dialog);

    const finish = (answer) => {
      dialog.close();
      dialog.remove();
      resolve(answer);
    };
    back.addEventListener("click", () => finish(false));
    go.addEventListener("click", () => finish(true));
    dialog.addEventListener("cancel", (event) => {
      event.preventDefault(); // Escape: the same as "back"
      finish(false);
    });
    dialog.showModal();
    back.focus(); // the safe choice has the focus
  });
}

function questionOf(source, form) {
  let question = source.dataset.confirm;
  const counted = source.dataset.confirmCount;
  if (counted) {
    const ticked = form.querySelectorAll(`input[type=checkbox][name="${counted}"]:checked`).length;
    if (ticked === 0) return null; // nothing ticked: the server says so, nothing to confirm
    question = question.replace("{n}", String(ticked));
  }
  return question;
}

document.addEventListener("submit", async (event) => {
  const form = event.target;
  if (confirmed === form) {
    confirmed = null;
    return;
  }
  const submitter = event.submitter;
  const source = submitter && submitter.dataset.confirm ? submitter : form.dataset.confirm ? form : null;
  if (!source) return;
  const question = questionOf(source, form);
  if (question === null) return;
  event.preventDefault();
  if (await ask(question, source.dataset.confirmOk, source.dataset.confirmCancel)) {
    confirmed = form;
    form.requestSubmit(submitter || undefined); // the same button: its name and value go along
  }
});
