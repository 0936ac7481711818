// Small progressive enhancements shared by every page (no inline scripts: strict CSP).

for (const button of document.querySelectorAll("[data-copy]")) {
  button.addEventListener("click", async () => {
    const source = document.querySelector(button.dataset.copy);
    source.select();
    try {
      await navigator.clipboard.writeText(source.value);
    } catch {
      document.execCommand("copy");
    }
    button.textContent = button.dataset.copied;
  });
}

for (const box of document.querySelectorAll("[data-select-all]")) {
  box.addEventListener("change", () => {
    const name = box.dataset.selectAll;
    for (const item of box.form.querySelectorAll(`input[type=checkbox][name="${name}"]`)) {
      item.checked = box.checked;
    }
  });
}

if (document.querySelector("[data-confirm]")) {
  import("./confirm.js");
}
