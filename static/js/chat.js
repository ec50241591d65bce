// Real-time chat for one conversation; the protocol is described at the top of
// messaging/consumers.py. The page works without this script: its forms post over HTTP.
//
// What it guarantees: every message the server stored reaches this page once, in id order,
// whatever the connection did meanwhile. Live frames are a shortcut; catch-up by the last id
// (on every connect and with every ping) is what makes it complete. What one writes keeps its
// client id until the server acknowledges it, so a resend after a reconnect is stored once.
(function () {
  "use strict";
  const configElement = document.getElementById("chat-config");
  const log = document.getElementById("chat-log");
  if (!configElement || !log) {
    return;
  }
  const config = JSON.parse(configElement.textContent);
  const labels = config.labels;
  const me = config.userId;
  const outboxList = document.getElementById("chat-outbox");
  const stateElement = document.getElementById("conn-state");
  const errorElement = document.getElementById("chat-error");
  // Absent where the person may only read (announcements, for members).
  const form = document.getElementById("chat-form");
  const input = form ? form.querySelector("textarea[name=body]") : null;
  const clientIdInput = form ? form.querySelector("input[name=client_id]") : null;
  const sendButton = document.getElementById("chat-send");
  const imageForm = document.getElementById("image-form");
  const imageError = document.getElementById("image-error");
  const csrfInput = document.querySelector("input[name=csrfmiddlewaretoken]");
  const csrfToken = csrfInput ? csrfInput.value : "";

  // 4401: not logged in any more; 4403: no access (any more). Reconnecting would not help.
  const REFUSED = [4401, 4403];
  const TOO_MANY = 4429;
  // The server could not read a frame (too big, or not one it understands).
  const UNREADABLE = [1009, 4400];
  const MIN_BACKOFF = 1000;
  const MAX_BACKOFF = 30000;
  const TOO_MANY_WAIT = 30000;
  const READ_THROTTLE_MS = 2000;
  // After this many failed connects without ever being online, the socket is probably blocked
  // (a proxy, an old intranet gateway): the form posts over HTTP instead of waiting forever.
  const GIVE_UP_AFTER = 3;

  let socket = null;
  let backoff = MIN_BACKOFF;
  let reconnectTimer = null;
  let pingTimer = null;
  let everOnline = false;
  let failedConnects = 0;
  let refused = false;
  // Everything up to this id came through a catch-up. Live frames do not move it, so a frame
  // the channel layer dropped comes with the next catch-up.
  let caughtUpTo = config.lastId;
  // Changes to messages this page has, after this server time, come with the next catch-up.
  let changedAfter = config.serverTime;
  // Each participant's read mark, for "Seen".
  const reads = {};
  // The page load marked everything it showed read.
  let readSent = config.lastId;
  let newestFromOthers = 0;
  let lastReadAt = 0;
  let readTimer = null;
  // Not yet acknowledged, oldest first: {clientId, body, item}. One is in flight at a time, so
  // they arrive in order and a rate limit refuses one frame, not a burst of them.
  const outbox = [];
  let inFlight = null;
  let pausedUntil = 0;
  // The text of an edit in flight: a broadcast of an edit that was held carries no text.
  const pendingEdits = new Map();

  function element(tag, className, text) {
    const node = document.createElement(tag);
    if (className) {
      node.className = className;
    }
    if (text !== undefined) {
      node.textContent = text;
    }
    return node;
  }

  // "%(name)s" placeholders, as gettext leaves them; a function, so "$&" in a name stays literal.
  function fill(template, values) {
    return template.replace(/%\((\w+)\)s/g, function (whole, key) {
      return Object.prototype.hasOwnProperty.call(values, key) ? String(values[key]) : whole;
    });
  }

  function newClientId() {
    if (window.crypto && typeof window.crypto.randomUUID === "function") {
      return window.crypto.randomUUID();
    }
    return Date.now().toString(36) + "-" + Math.random().toString(36).slice(2, 14);
  }

  function messageUrl(id, tail) {
    return config.urls.message.replace("__ID__", String(id)) + tail;
  }

  function isOpen() {
    return socket !== null && socket.readyState === WebSocket.OPEN;
  }

  function send(frame) {
    if (isOpen()) {
      socket.send(JSON.stringify(frame));
      return true;
    }
    return false;
  }

  function setState(state) {
    stateElement.hidden = false;
    stateElement.dataset.state = state;
    stateElement.textContent = labels[state];
  }

  function showError(text) {
    errorElement.textContent = text;
    errorElement.hidden = !text;
  }

  function formatTime(iso) {
    // The site's time zone, as in the server-rendered history, not the device's.
    return new Date(iso).toLocaleString(document.documentElement.lang || undefined, {
      timeZone: config.timeZone,
      dateStyle: "medium",
      timeStyle: "short",
    });
  }

  function postForm(action, className, buttonText, buttonClass) {
    const postable = element("form", className);
    postable.method = "post";
    postable.action = action;
    const token = element("input");
    token.type = "hidden";
    token.name = "csrfmiddlewaretoken";
    token.value = csrfToken;
    const button = element("button", buttonClass, buttonText);
    button.type = "submit";
    postable.append(token, button);
    return postable;
  }

  function editable(message) {
    return (
      message.sender_id === me &&
      message.kind === "text" &&
      !message.deleted &&
      !message.hidden &&
      message.status !== "rejected" &&
      Date.now() - Date.parse(message.created_at) <= config.editMinutes * 60000
    );
  }

  function editForm(message) {
    const details = element("details", "edit");
    details.append(element("summary", "", labels.edit));
    const editing = postForm(messageUrl(message.id, "edit/"), "edit-form", labels.save, "");
    const label = element("label", "", labels.newText);
    label.htmlFor = "edit-" + message.id;
    const area = element("textarea");
    area.id = label.htmlFor;
    area.name = "body";
    area.rows = 2;
    area.maxLength = 2000;
    area.required = true;
    area.value = message.body;
    editing.insertBefore(area, editing.querySelector("button"));
    editing.insertBefore(label, area);
    details.append(editing);
    return details;
  }

  // The same markup as the server renders in templates/messaging/conversation.html.
  function render(message) {
    const mine = message.sender_id === me;
    const item = element("li", "chat-message");
    item.classList.toggle("mine", mine);
    if (message.deleted) {
      item.classList.add("deleted");
    } else if (message.status !== "visible") {
      item.classList.add(message.status);
    }
    item.id = "m-" + message.id;
    item.dataset.id = String(message.id);
    item.dataset.senderId = String(message.sender_id);
    item.dataset.kind = message.kind;
    item.dataset.status = message.status;
    item.dataset.createdAt = message.created_at;
    item.dataset.changedAt = message.changed_at;
    item.dataset.hidden = message.hidden ? "1" : "";
    if (message.hidden) {
      item.classList.add("hidden-by-committee");
    }

    const meta = element("p", "meta");
    const time = element("time", "", formatTime(message.created_at));
    time.dateTime = message.created_at;
    meta.append(element("span", "sender", message.sender), " ", time);
    if (message.edited_at && !message.deleted) {
      meta.append(" ", element("span", "edited", "(" + labels.edited + ")"));
    }
    item.append(meta);

    if (message.deleted) {
      item.append(element("p", "body deleted-note", labels.deleted));
    } else if (message.hidden && !mine) {
      // The committee hid it: nothing of what it said reaches anyone but its sender.
      item.append(element("p", "body status-note", labels.hidden));
    } else if (message.kind === "image") {
      if (message.thumbnail) {
        const link = element("a", "photo");
        link.href = message.image;
        const image = element("img");
        image.src = message.thumbnail;
        image.alt = fill(labels.photoFrom, { name: message.sender });
        image.loading = "lazy";
        link.append(image);
        item.append(link);
      }
      if (message.body) {
        item.append(element("p", "body", message.body));
      }
    } else if (message.kind === "contact") {
      const kind = labels.contactKinds[message.contact_kind] || message.contact_kind;
      item.append(element("p", "body contact-note", fill(labels.sharedContact, { name: message.sender, kind: kind })));
      const value = element("span", "contact-value mono");
      value.hidden = true;
      item.append(postForm(messageUrl(message.id, "contact/"), "inline reveal-form", labels.show, ""), " ", value);
    } else {
      item.append(element("p", "body", message.body));
    }
    if (message.status === "held") {
      item.append(element("p", "status-note", labels.held));
    } else if (message.status === "rejected") {
      item.append(element("p", "status-note", labels.rejected));
    }
    if (message.hidden && mine && !message.deleted) {
      item.append(element("p", "status-note", fill(labels.hiddenOwn, { reason: message.hidden_reason })));
    }

    const actions = element("div", "message-actions");
    if (editable(message)) {
      actions.append(editForm(message));
    }
    if (mine && !message.deleted) {
      actions.append(postForm(messageUrl(message.id, "delete/"), "inline delete-form", labels.delete, "link"));
    }
    if (!mine && !message.deleted && !message.hidden) {
      const report = element("a", "report-link", labels.report);
      report.href = config.urls.report.replace("__ID__", String(message.id));
      actions.append(report);
    }
    if (actions.childNodes.length) {
      item.append(actions);
    }
    return item;
  }

  function atBottom() {
    return log.scrollHeight - log.scrollTop - log.clientHeight < 40;
  }

  function insertInOrder(item, id) {
    const items = log.querySelectorAll(".chat-message");
    // New messages usually belong last: look from the end.
    for (let index = items.length - 1; index >= 0; index -= 1) {
      if (Number(items[index].dataset.id) < id) {
        items[index].after(item);
        return;
      }
    }
    log.prepend(item);
  }

  function unchanged(existing, message) {
    return (
      existing.dataset.status === message.status &&
      existing.classList.contains("deleted") === message.deleted &&
      existing.dataset.hidden === (message.hidden ? "1" : "") &&
      Date.parse(existing.dataset.changedAt) === Date.parse(message.changed_at)
    );
  }

  // A new or changed message, from a live frame, a catch-up, an acknowledgement or an upload.
  function upsert(message) {
    const existing = document.getElementById("m-" + message.id);
    const mine = message.sender_id === me;
    if (!mine && message.status !== "visible") {
      // Withdrawn for review: others no longer see it (the sender still does).
      if (existing) {
        existing.remove();
        updateSeen();
      }
      return;
    }
    if (mine && message.hidden && !message.deleted && !message.hidden_reason) {
      // The broadcast of a hide carries nothing of the message, not even to its sender: a
      // catch-up asks for it as the sender sees it, with the committee's reason.
      if (existing) {
        catchUp();
      }
      return;
    }
    if (mine && message.status !== "visible" && !message.body && !message.deleted) {
      // A broadcast carries no text of a held message, not even to its sender: keep ours.
      const shown = existing ? existing.querySelector(".body") : null;
      const edited = pendingEdits.get(message.id);
      message = Object.assign({}, message, { body: edited !== undefined ? edited : shown ? shown.textContent : "" });
    }
    pendingEdits.delete(message.id);
    if (existing && unchanged(existing, message)) {
      return;
    }
    const follow = atBottom() || mine;
    const item = render(message);
    if (existing) {
      existing.replaceWith(item);
    } else {
      const empty = document.getElementById("chat-empty");
      if (empty) {
        empty.remove();
      }
      insertInOrder(item, message.id);
      if (follow) {
        log.scrollTop = log.scrollHeight;
      }
    }
    if (!mine && message.status === "visible") {
      newestFromOthers = Math.max(newestFromOthers, message.id);
    }
    if (mine && message.client_id) {
      settle(message.client_id);
    }
    updateSeen();
  }

  // "Seen" under the newest of one's own published messages that someone else has read.
  function updateSeen() {
    let upTo = 0;
    Object.keys(reads).forEach(function (reader) {
      if (Number(reader) !== me) {
        upTo = Math.max(upTo, reads[reader]);
      }
    });
    let target = null;
    log.querySelectorAll(".chat-message.mine").forEach(function (item) {
      if (item.dataset.status === "visible" && !item.classList.contains("deleted") && Number(item.dataset.id) <= upTo) {
        target = item;
      }
    });
    const current = log.querySelector(".seen");
    if (current && current.parentElement === target) {
      return;
    }
    if (current) {
      current.remove();
    }
    if (target) {
      target.append(element("p", "seen", labels.seen));
    }
  }

  function applyRead(reader, upTo) {
    reads[reader] = Math.max(reads[reader] || 0, upTo);
    updateSeen();
  }

  function newestShown() {
    const items = log.querySelectorAll(".chat-message");
    return items.length ? Number(items[items.length - 1].dataset.id) : 0;
  }

  // Tell the server what the person has seen: only while the page is in front of them.
  function maybeSendRead() {
    if (document.visibilityState !== "visible" || !isOpen() || newestFromOthers <= readSent) {
      return;
    }
    const wait = lastReadAt + READ_THROTTLE_MS - Date.now();
    if (wait > 0) {
      if (!readTimer) {
        readTimer = window.setTimeout(function () {
          readTimer = null;
          maybeSendRead();
        }, wait);
      }
      return;
    }
    lastReadAt = Date.now();
    readSent = Math.max(newestFromOthers, newestShown());
    send({ type: "read", up_to: readSent });
  }

  function catchUp() {
    send({ type: "catch_up", after: caughtUpTo, changed_after: changedAfter || null });
  }

  // --- What one writes ----------------------------------------------------------------------

  function showOutbox() {
    outboxList.hidden = outbox.length === 0;
  }

  function noteOutbox(entry, text) {
    entry.item.querySelector(".status-note").textContent = text;
  }

  function queue(body) {
    const entry = { clientId: newClientId(), body: body, item: element("li", "chat-message mine pending") };
    entry.item.append(element("p", "body", body), element("p", "status-note", labels.queued));
    outbox.push(entry);
    outboxList.append(entry.item);
    showOutbox();
    pump();
  }

  function pump() {
    if (inFlight || !outbox.length || !isOpen() || Date.now() < pausedUntil) {
      return;
    }
    inFlight = outbox[0];
    noteOutbox(inFlight, labels.sending);
    send({ type: "message.send", client_id: inFlight.clientId, body: inFlight.body });
  }

  // The server has it (an acknowledgement, or the message itself in a catch-up).
  function settle(clientId) {
    const index = outbox.findIndex(function (entry) {
      return entry.clientId === clientId;
    });
    if (index !== -1) {
      outbox[index].item.remove();
      outbox.splice(index, 1);
      showOutbox();
    }
    if (inFlight && inFlight.clientId === clientId) {
      inFlight = null;
      pump();
    }
  }

  // Refused for good (too long, blocked…): out of the queue, back into the box to fix.
  function giveBack(clientId) {
    const entry = outbox.find(function (candidate) {
      return candidate.clientId === clientId;
    });
    if (!entry) {
      return;
    }
    if (input && !input.value) {
      input.value = entry.body;
    }
    settle(clientId);
  }

  function pauseSending(seconds) {
    pausedUntil = Date.now() + seconds * 1000;
    if (sendButton) {
      sendButton.disabled = true;
    }
    window.setTimeout(function () {
      if (sendButton) {
        sendButton.disabled = false;
      }
      showError("");
      pump();
    }, seconds * 1000);
  }

  function onError(frame) {
    const text = (frame.errors || []).join(" ") || labels.failed;
    showError(text);
    if (frame.code === "rate_limited") {
      // Kept, with its client id, and sent again once the wait is over.
      if (inFlight) {
        noteOutbox(inFlight, labels.queued);
      }
      inFlight = null;
      pauseSending(frame.retry_after || 10);
    } else if (frame.client_id) {
      giveBack(frame.client_id);
    } else if (frame.id) {
      pendingEdits.delete(frame.id);
    }
  }

  function handle(frame) {
    if (frame.type === "message") {
      upsert(frame.message);
      maybeSendRead();
    } else if (frame.type === "message.ack") {
      showError("");
      if (frame.message) {
        upsert(frame.message);
      }
      settle(frame.client_id);
    } else if (frame.type === "caught_up") {
      caughtUpTo = Math.max(caughtUpTo, frame.last_id);
      changedAfter = frame.now;
      Object.keys(frame.reads || {}).forEach(function (reader) {
        applyRead(reader, frame.reads[reader]);
      });
      if (frame.more) {
        catchUp();
      } else {
        maybeSendRead();
      }
    } else if (frame.type === "read") {
      applyRead(String(frame.user_id), frame.up_to);
    } else if (frame.type === "error") {
      onError(frame);
    }
  }

  // --- The connection -----------------------------------------------------------------------

  function scheduleReconnect(fixedDelay) {
    if (reconnectTimer || refused) {
      return;
    }
    let delay = fixedDelay;
    if (delay === undefined) {
      // Full jitter: after a server restart, every open page must not come back in the same second.
      delay = Math.round(backoff / 2 + (Math.random() * backoff) / 2);
      backoff = Math.min(backoff * 2, MAX_BACKOFF);
    }
    reconnectTimer = window.setTimeout(connect, delay);
  }

  function startPing() {
    stopPing();
    pingTimer = window.setInterval(function () {
      // Keeps presence fresh (no email while the page is open) and fills any gap a dropped
      // live frame left.
      send({ type: "ping" });
      catchUp();
    }, config.pingSeconds * 1000);
  }

  function stopPing() {
    if (pingTimer) {
      window.clearInterval(pingTimer);
      pingTimer = null;
    }
  }

  function connect() {
    reconnectTimer = null;
    setState(everOnline ? "offline" : "connecting");
    const scheme = window.location.protocol === "https:" ? "wss://" : "ws://";
    let opened;
    try {
      opened = new WebSocket(scheme + window.location.host + config.wsPath);
    } catch (error) {
      failedConnects += 1;
      scheduleReconnect();
      return;
    }
    socket = opened;
    opened.addEventListener("open", function () {
      if (socket !== opened) {
        return;
      }
      backoff = MIN_BACKOFF;
      everOnline = true;
      failedConnects = 0;
      setState("online");
      // What arrived or changed while away, in order; then what was written meanwhile.
      catchUp();
      startPing();
      pump();
    });
    opened.addEventListener("message", function (event) {
      if (socket !== opened) {
        return;
      }
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
    opened.addEventListener("close", function (event) {
      if (socket !== opened) {
        return;
      }
      socket = null;
      stopPing();
      const culprit = inFlight;
      inFlight = null;
      outbox.forEach(function (entry) {
        noteOutbox(entry, labels.queued);
      });
      if (REFUSED.indexOf(event.code) !== -1) {
        refused = true;
        setState("refused");
        return;
      }
      failedConnects += 1;
      setState("offline");
      if (event.code === TOO_MANY) {
        showError(labels.tooMany);
        scheduleReconnect(TOO_MANY_WAIT);
        return;
      }
      if (UNREADABLE.indexOf(event.code) !== -1) {
        // Most likely what was in flight: sending it again would close the socket again.
        showError(labels.unreadable);
        if (culprit) {
          giveBack(culprit.clientId);
        }
      }
      scheduleReconnect();
    });
  }

  // --- The page's controls ------------------------------------------------------------------

  function useSocket() {
    return !refused && (everOnline || failedConnects < GIVE_UP_AFTER);
  }

  if (form) {
    input.addEventListener("input", function () {
      // A new text is a new message: a new client id for the HTTP fallback.
      clientIdInput.value = "";
    });
    input.addEventListener("keydown", function (event) {
      if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
        event.preventDefault();
        form.requestSubmit();
      }
    });
    form.addEventListener("submit", function (event) {
      const body = input.value.trim();
      if (!useSocket()) {
        // The HTTP fallback: the form posts, with a client id kept if it is posted again.
        clientIdInput.value = clientIdInput.value || newClientId();
        return;
      }
      event.preventDefault();
      if (!body || (sendButton && sendButton.disabled)) {
        return;
      }
      showError("");
      queue(body);
      input.value = "";
      input.focus();
    });
  }

  function reveal(revealForm, item) {
    const button = revealForm.querySelector("button");
    const output = item.querySelector(".contact-value");
    button.disabled = true;
    window
      .fetch(revealForm.action, {
        method: "POST",
        credentials: "same-origin",
        headers: { "X-Requested-With": "fetch", "X-CSRFToken": csrfToken, Accept: "application/json" },
      })
      .then(function (response) {
        return response
          .json()
          .catch(function () {
            return {};
          })
          .then(function (data) {
            return { ok: response.ok, data: data };
          });
      })
      .then(function (result) {
        output.hidden = false;
        if (result.ok && typeof result.data.value === "string") {
          output.classList.remove("error");
          output.textContent = result.data.value;
          revealForm.hidden = true;
        } else {
          output.classList.add("error");
          output.textContent = (result.data.errors || [labels.notShared]).join(" ");
          button.disabled = false;
        }
      })
      .catch(function () {
        button.disabled = false;
        showError(labels.failed);
      });
  }

  log.addEventListener("submit", function (event) {
    const target = event.target;
    const item = target.closest(".chat-message");
    if (!item) {
      return;
    }
    const id = Number(item.dataset.id);
    if (target.classList.contains("reveal-form")) {
      if (window.fetch) {
        event.preventDefault();
        reveal(target, item);
      }
    } else if (target.classList.contains("delete-form")) {
      event.preventDefault();
      if (!window.confirm(labels.confirmDelete)) {
        return;
      }
      if (!send({ type: "message.delete", id: id })) {
        target.submit();
      }
    } else if (target.classList.contains("edit-form") && isOpen()) {
      event.preventDefault();
      const body = target.querySelector("textarea").value.trim();
      if (!body) {
        return;
      }
      pendingEdits.set(id, body);
      send({ type: "message.edit", id: id, body: body });
      const details = target.closest("details");
      if (details) {
        details.open = false;
      }
    }
  });

  if (imageForm && window.fetch && window.FormData) {
    const fileInput = imageForm.querySelector("input[type=file]");
    const imageClientId = imageForm.querySelector("input[name=client_id]");
    const imageButton = document.getElementById("image-send");
    const showImageError = function (text) {
      imageError.textContent = text;
      imageError.hidden = !text;
    };
    fileInput.addEventListener("change", function () {
      // Another photo is another message.
      imageClientId.value = "";
    });
    imageForm.addEventListener("submit", function (event) {
      event.preventDefault();
      // Kept until the upload succeeds: a retry after a failed connection is stored once.
      imageClientId.value = imageClientId.value || newClientId();
      imageButton.disabled = true;
      showImageError("");
      window
        .fetch(imageForm.action, {
          method: "POST",
          body: new FormData(imageForm),
          credentials: "same-origin",
          headers: { "X-Requested-With": "fetch", "X-CSRFToken": csrfToken, Accept: "application/json" },
        })
        .then(function (response) {
          return response
            .json()
            .catch(function () {
              return {};
            })
            .then(function (data) {
              return { ok: response.ok, status: response.status, data: data };
            });
        })
        .then(function (result) {
          if (result.ok && result.data.message) {
            imageForm.reset();
            imageClientId.value = "";
            imageButton.disabled = false;
            const details = imageForm.closest("details");
            if (details) {
              details.open = false;
            }
            upsert(result.data.message);
            return;
          }
          showImageError((result.data.errors || []).join(" ") || labels.uploadFailed);
          const wait = result.status === 429 && result.data.retry_after ? result.data.retry_after * 1000 : 0;
          window.setTimeout(function () {
            imageButton.disabled = false;
          }, wait);
        })
        .catch(function () {
          showImageError(labels.uploadFailed);
          imageButton.disabled = false;
        });
    });
  }

  // --- Start --------------------------------------------------------------------------------

  Object.keys(config.reads || {}).forEach(function (reader) {
    reads[reader] = config.reads[reader];
  });
  log.querySelectorAll(".chat-message").forEach(function (item) {
    if (Number(item.dataset.senderId) !== me && item.dataset.status === "visible") {
      newestFromOthers = Math.max(newestFromOthers, Number(item.dataset.id));
    }
  });
  log.scrollTop = log.scrollHeight;
  if (!("WebSocket" in window)) {
    return;
  }
  document.addEventListener("visibilitychange", maybeSendRead);
  window.addEventListener("online", function () {
    // The device is back on a network: no need to wait out the back-off.
    if (!socket && !refused && reconnectTimer) {
      window.clearTimeout(reconnectTimer);
      reconnectTimer = null;
      backoff = MIN_BACKOFF;
      connect();
    }
  });
  connect();
})();
