// Real-time chat for one conversation. Without WebSockets the form posts over HTTP.
(function () {
  "use strict";
  const config = JSON.parse(document.getElementById("chat-config").textContent);
  const log = document.getElementById("chat-log");
  const form = document.getElementById("chat-form");
  const input = form.querySelector("textarea[name=body]");
  const clientIdInput = form.querySelector("input[name=client_id]");
  const stateEl = document.getElementById("conn-state");
  const errorEl = document.getElementById("chat-error");
  const REFUSED = [4401, 4403];
  let socket = null;
  let lastId = config.lastId;
  let backoff = 1000;
  let pendingClientId = null;

  function newClientId() {
    return Date.now().toString(36) + "-" + Math.random().toString(36).slice(2, 12);
  }

  function setState(state) {
    stateEl.dataset.state = state;
    stateEl.textContent = config.labels[state];
  }

  function showError(text) {
    errorEl.textContent = text;
    errorEl.hidden = !text;
  }

  function append(message) {
    if (log.querySelector('[data-id="' + message.id + '"]')) {
      return;
    }
    const empty = document.getElementById("chat-empty");
    if (empty) {
      empty.remove();
    }
    const item = document.createElement("li");
    item.className = "chat-message" + (message.sender_id === config.userId ? " mine" : "");
    item.dataset.id = message.id;
    const sender = document.createElement("span");
    sender.className = "sender";
    sender.textContent = message.sender;
    const time = document.createElement("time");
    time.dateTime = message.created_at;
    // The site's time zone, as in the server-rendered history, not the device's.
    time.textContent = new Date(message.created_at).toLocaleString(document.documentElement.lang, {
      timeZone: config.timeZone,
      dateStyle: "medium",
      timeStyle: "short",
    });
    const body = document.createElement("p");
    body.className = "body";
    body.textContent = message.body;
    item.append(sender, " ", time, body);
    log.append(item);
    lastId = Math.max(lastId, message.id);
    item.scrollIntoView({ block: "nearest" });
  }

  function connect() {
    setState(socket ? "offline" : "connecting");
    const scheme = window.location.protocol === "https:" ? "wss://" : "ws://";
    socket = new WebSocket(scheme + window.location.host + config.wsPath);
    socket.addEventListener("open", function () {
      backoff = 1000;
      setState("online");
      // Whatever arrived while we were away, in order.
      socket.send(JSON.stringify({ type: "catch_up", after: lastId }));
    });
    socket.addEventListener("message", function (event) {
      const frame = JSON.parse(event.data);
      if (frame.type === "message") {
        append(frame.message);
      } else if (frame.type === "message.ack" && frame.client_id === pendingClientId) {
        pendingClientId = null;
        input.value = "";
        showError("");
      } else if (frame.type === "error") {
        pendingClientId = null;
        showError(frame.errors.join(" ") || config.labels.failed);
      }
    });
    socket.addEventListener("close", function (event) {
      if (REFUSED.indexOf(event.code) !== -1) {
        setState("refused");
        return;
      }
      setState("offline");
      window.setTimeout(connect, backoff);
      backoff = Math.min(backoff * 2, 30000);
    });
  }

  form.addEventListener("submit", function (event) {
    const body = input.value.trim();
    clientIdInput.value = pendingClientId || newClientId();
    if (!socket || socket.readyState !== WebSocket.OPEN) {
      return; // the HTTP fallback posts the form, with its client id
    }
    event.preventDefault();
    if (!body) {
      return;
    }
    pendingClientId = clientIdInput.value;
    socket.send(JSON.stringify({ type: "message.send", body: body, client_id: pendingClientId }));
  });

  connect();
})();
