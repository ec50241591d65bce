// The nearby page's enhancements: the map of the listed requests, and the live refresh.
// The list itself is server-rendered and complete without this script.
(function () {
  "use strict";
  const configEl = document.getElementById("nearby-config");
  const results = document.getElementById("nearby-results");
  if (!configEl || !results) {
    return;
  }
  const config = JSON.parse(configEl.textContent);
  const live = document.getElementById("nearby-live");
  const mapSection = document.getElementById("nearby-map-section");
  const mapEl = document.getElementById("nearby-map");
  const note = document.getElementById("nearby-map-note");
  const REFRESH_DELAY_MS = 1000;
  const SINGLE_BUILDING_ZOOM = 16;
  let map = null;
  let markers = null;
  let timer = null;
  let inFlight = false;
  let again = false;
  let stale = false;

  function showNote(text) {
    note.textContent = text;
    note.hidden = !text;
  }

  function readBuildings() {
    const data = document.getElementById("nearby-map-data");
    return data ? JSON.parse(data.textContent) || [] : [];
  }

  // Built from elements and text, never from HTML strings: titles are what people typed.
  function popupFor(building) {
    const box = document.createElement("div");
    const name = document.createElement("strong");
    name.textContent = building.name;
    const list = document.createElement("ul");
    list.className = "nearby-popup";
    building.posts.forEach(function (post) {
      const item = document.createElement("li");
      const link = document.createElement("a");
      link.href = post.url;
      link.textContent = post.title;
      item.append(link);
      if (post.urgent) {
        item.append(" ");
        const badge = document.createElement("span");
        badge.className = "badge urgency-2";
        badge.textContent = config.labels.urgent;
        item.append(badge);
      }
      list.append(item);
    });
    box.append(name, list);
    return box;
  }

  function iconFor(building) {
    const count = document.createElement("span");
    count.textContent = String(building.posts.length);
    const urgent = building.posts.some(function (post) {
      return post.urgent;
    });
    return L.divIcon({
      className: "nearby-marker" + (urgent ? " urgent" : ""),
      html: count,
      iconSize: [34, 34],
      iconAnchor: [17, 17],
      popupAnchor: [0, -14],
    });
  }

  function setUpMap() {
    map = L.map(mapEl, { scrollWheelZoom: false });
    markers = L.featureGroup().addTo(map);
    if (!config.tileUrl) {
      showNote(config.labels.noTiles);
      return;
    }
    const tiles = L.tileLayer(config.tileUrl, { attribution: config.attribution, maxZoom: 19 });
    // One failed tile means the server is unreachable (an intranet, a dead link): drop the
    // layer rather than show broken squares, and say why the background is plain.
    tiles.once("tileerror", function () {
      map.removeLayer(tiles);
      showNote(config.labels.tilesFailed);
    });
    tiles.addTo(map);
  }

  function drawMap() {
    if (typeof window.L === "undefined" || !mapEl) {
      return; // Leaflet did not load: the list is all there is, and all that is needed.
    }
    const buildings = readBuildings();
    mapSection.hidden = buildings.length === 0;
    if (!buildings.length) {
      return;
    }
    if (!map) {
      setUpMap();
    }
    markers.clearLayers();
    buildings.forEach(function (building) {
      const count = building.posts.length;
      const form = new Intl.PluralRules(document.documentElement.lang).select(count);
      const requests = config.labels.requests[form] || config.labels.requests.other;
      const label = building.name + " (" + requests.replace("%(count)s", count) + ")";
      L.marker([building.lat, building.lng], { icon: iconFor(building), title: label, keyboard: true })
        .bindPopup(popupFor(building))
        .addTo(markers);
    });
    map.invalidateSize();
    if (buildings.length === 1) {
      map.setView([buildings[0].lat, buildings[0].lng], SINGLE_BUILDING_ZOOM);
    } else {
      map.fitBounds(markers.getBounds(), { padding: [24, 24], maxZoom: SINGLE_BUILDING_ZOOM });
    }
  }

  function announce(text) {
    // Cleared first, so that the same words are read out again on the next update.
    live.textContent = "";
    window.setTimeout(function () {
      live.textContent = text;
    }, 50);
  }

  function swap(html) {
    const focused = document.activeElement;
    const focusedHref = results.contains(focused) && focused.getAttribute ? focused.getAttribute("href") : null;
    // A template's content is inert: nothing in it runs or loads while it is parsed.
    const template = document.createElement("template");
    template.innerHTML = html;
    results.replaceChildren(template.content);
    if (focusedHref) {
      const target = results.querySelector('a[href="' + CSS.escape(focusedHref) + '"]');
      (target || results).focus({ preventScroll: true });
    }
    drawMap();
    announce(config.labels.updated);
  }

  async function refresh() {
    if (inFlight) {
      again = true;
      return;
    }
    inFlight = true;
    // The list stays readable while it is asked again; screen readers hear the update after.
    results.setAttribute("aria-busy", "true");
    try {
      const response = await fetch(window.location.href, {
        headers: { "X-Requested-With": "fetch" },
        credentials: "same-origin",
        cache: "no-store",
      });
      // A redirect is the login page (the session ended) and an error is a bad moment:
      // keep the list as it is rather than swap in something else.
      if (response.status === 200 && !response.redirected) {
        swap(await response.text());
      }
    } catch (error) {
      // Offline for a moment; the next change tries again.
    } finally {
      results.removeAttribute("aria-busy");
      inFlight = false;
      if (again) {
        again = false;
        schedule();
      }
    }
  }

  function schedule() {
    if (document.hidden) {
      stale = true; // refreshed when the person comes back to the tab
      return;
    }
    window.clearTimeout(timer);
    timer = window.setTimeout(refresh, REFRESH_DELAY_MS);
  }

  // static/js/stream.js re-dispatches each frame of the person's stream. "feed.changed" says
  // only that something changed in one of their communities; this page asks again over HTTP,
  // where the visibility rules apply.
  window.addEventListener("jinlin:stream", function (event) {
    const frame = event.detail || {};
    if (frame.type === "feed.changed") {
      schedule();
    }
  });
  document.addEventListener("visibilitychange", function () {
    if (!document.hidden && stale) {
      stale = false;
      schedule();
    }
  });

  results.tabIndex = -1; // a place for focus to land when the focused link is gone
  drawMap();
})();
