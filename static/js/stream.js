// The person's own real-time stream (messaging.consumers.StreamConsumer): keeps the header
// bell's unread count and the unread messages badge right, announces new notifications to
// screen readers, keeps the person's presence fresh (no email about what they are looking at),
// and passes every frame on as a "jinlin:stream" event for the page's own scripts (the nearby
// list listens for "feed.changed"). Without WebSockets the header shows the counts rendered
// with the page.
(function () {
  "use strict";
  if (!("WebSocket" in window)) {
    return;
  }
  const script = document.currentScript;
  const bell = document.getElementById("notification-bell");
  const announcer = document.getElementById("stream-announcer");
  const countEl = bell ? bell.querySelector("[data-unread]") : null;
  const messagesBadge = document.querySelector("#messages-link [data-unread-messages]");
  const messagesCount = messagesBadge ? messagesBadge.querySelector("[data-count]") : null;
  // 4401: not logged in (any more); 4403: account closed. Reconnecting would not help.
  const REFUSED = [4401, 4403];
  const MIN_BACKOFF = 1000;
  const MAX_BACKOFF = 30000;
  // settings.PRESENCE_PING_SECONDS, when the page says it (data-ping-seconds on this script).
  const PING_MS = (Number(script && script.dataset.pingSeconds) || 30) * 1000;
  let backoff = MIN_BACKOFF;
  let pingTimer = null;

  function setUnread(count) {
    if (!bell || typeof count !== "number" || count < 0) {
      return;
    }
    countEl.textContent = String(count);
    countEl.hidden = count === 0;
    bell.classList.toggle("has-unread", count > 0);
    const label = count > 0 ? bell.dataset.labelSome.replace("__COUNT__", String(count)) : bell.dataset.labelNone;
    bell.setAttribute("aria-label", label);
  }

  function setUnreadMessages(count) {
    if (!messagesBadge || typeof count !== "number" || count < 0) {
      return;
    }
    messagesCount.textContent = String(count);
    messagesBadge.hidden = count === 0;
  }

  function announce(notification) {
    if (!announcer || !notification || !notification.title) {
      return;
    }
    // Cleared first, so that the same words twice in a row are read twice.
    announcer.textContent = "";
    window.setTimeout(function () {
      // A function, so that "$&" and the like in a title are not read as replacement patterns.
      announcer.textContent = announcer.dataset.template.replace("__TITLE__", function () {
        return notification.title;
      });
    }, 100);
  }

  function handle(frame) {
    if (frame.type === "hello" || frame.type === "pong" || frame.type === "notification" || frame.type === "unread") {
      // Counted by the server when it sent the frame: right even after missed frames.
      setUnread(frame.unread);
      setUnreadMessages(frame.unread_messages);
    }
    if (frame.type === "notification") {
      announce(frame.notification);
    }
    window.dispatchEvent(new CustomEvent("jinlin:stream", { detail: frame }));
  }

  function scheduleReconnect() {
    // Full jitter: after a server restart, every open page must not come back in the same second.
    const delay = Math.round(backoff / 2 + Math.random() * (backoff / 2));
    backoff = Math.min(backoff * 2, MAX_BACKOFF);
    window.setTimeout(connect, delay);
  }

  function connect() {
    const scheme = window.location.protocol === "https:" ? "wss://" : "ws://";
    const socket = new WebSocket(scheme + window.location.host + "/ws/stream/");
    socket.addEventListener("open", function () {
      backoff = MIN_BACKOFF;
      pingTimer = window.setInterval(function () {
        socket.send(JSON.stringify({ type: "ping" }));
      }, PING_MS);
    });
    socket.addEventListener("message", function (event) {
      let frame;
      try {
        frame = JSON.parse(event.data);
      } catch (error) {
        return;
      }
      if (frame && typeof frame.type === "string") {
        handle(frame);
      }
    });
    socket.addEventListener("close", function (event) {
      window.clearInterval(pingTimer);
      pingTimer = null;
      if (REFUSED.indexOf(event.code) !== -1) {
        return;
      }
      scheduleReconnect();
    });
  }

  connect();
})();
