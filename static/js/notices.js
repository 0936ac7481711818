// In-app notices on the participant page, pushed live: the server emits "notice" to the
// participant's own room when a reminder or announcement is sent. The socket.io client is loaded
// only after the page has rendered, to keep the first load light. Text is inserted as text.

const box = document.querySelector("[data-live-notices]");

function show(notice) {
  const paragraph = document.createElement("p");
  paragraph.className = "flash flash-info notice";
  paragraph.setAttribute("role", "status");
  const subject = document.createElement("strong");
  subject.textContent = notice.subject || "";
  paragraph.append(subject, document.createElement("br"), document.createTextNode(notice.text || ""));
  box.prepend(paragraph);
}

function connect() {
  const socket = window.io();
  socket.on("connect", () => {
    box.dataset.connected = "true";
  });
  socket.on("notice", (notice) => {
    if (notice && (notice.subject || notice.text)) show(notice);
  });
}

if (box) {
  if (typeof window.io === "function") {
    connect();
  } else {
    const script = document.createElement("script");
    script.src = box.dataset.socketSrc;
    script.addEventListener("load", connect);
    document.body.append(script);
  }
}
