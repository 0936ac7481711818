// A page's configuration, written by its view as JSON (no inline scripts: strict CSP): in the
// element's data-config attribute, or in a <script type="application/json"> block.

export function pageConfig(source) {
  const text = source.tagName === "SCRIPT" ? source.textContent : source.dataset.config;
  return JSON.parse(text);
}
