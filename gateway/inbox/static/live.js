/* 问政通工作台 — live updates. Reads the server-sent events of /inbox/events and, without a reload:
 * on the queue page re-fetches the page and swaps the tabs and the table, on the notification list the
 * list, on a case page shows a notice when the case changes; the bell's unread count follows along.
 * The pages work without this script: it only saves pressing reload. */
(function () {
  "use strict";

  var body = document.body;
  if (!body || !body.hasAttribute("data-live-after") || !window.EventSource) {
    return;
  }

  var BELL = ".bell__count";
  var RETRY_CLOSED_MS = 30000; // after a refusal (429) or an ended session, try again this much later
  var casePath = /^\/inbox\/cases\/([^/]+)$/.exec(location.pathname);
  var caseNumber = casePath ? decodeURIComponent(casePath[1]) : null;
  // What each page swaps in from a fresh copy of itself when something changes.
  var regions = location.pathname === "/inbox" ? [".tabs", ".queue", BELL]
    : location.pathname === "/inbox/notifications" ? [".notifications", BELL]
    : null;
  var lastId = body.getAttribute("data-live-after");
  var fresh = {}; // case numbers changed since the last swap, to mark their rows

  function announce(text) {
    var region = document.getElementById("live-announcer");
    if (region) {
      region.textContent = text;
    }
  }

  function bump(count) {
    var badge = document.querySelector(BELL);
    if (!badge) {
      return;
    }
    var unread = (parseInt(badge.getAttribute("data-unread"), 10) || 0) + count;
    badge.setAttribute("data-unread", String(unread));
    badge.querySelector(".bell__number").textContent = unread > 99 ? "99+" : String(unread);
    badge.hidden = unread === 0;
  }

  function focusSelector(element) {
    if (element.id) {
      return "#" + CSS.escape(element.id);
    }
    var href = element.getAttribute("href");
    return href ? '[href="' + CSS.escape(href) + '"]' : null;
  }

  // Make ``current`` what ``next`` is, except for its forms: the filter form keeps what
  // the user has typed or chosen (and the focus) while the rows around it change.
  function replaceKeepingForms(current, next) {
    Array.prototype.slice.call(current.attributes).forEach(function (attribute) {
      current.removeAttribute(attribute.name);
    });
    Array.prototype.slice.call(next.attributes).forEach(function (attribute) {
      current.setAttribute(attribute.name, attribute.value);
    });
    var kept = Array.prototype.slice.call(current.querySelectorAll(":scope > form"));
    Array.prototype.slice.call(current.children).forEach(function (child) {
      if (child.tagName !== "FORM") {
        child.remove();
      }
    });
    var last = null;
    Array.prototype.slice.call(next.children).forEach(function (child) {
      if (child.tagName === "FORM" && kept.length) {
        last = kept.shift();
        return;
      }
      var node = document.adoptNode(child);
      if (last) {
        last.after(node);
      } else {
        current.prepend(node);
      }
      last = node;
    });
  }

  function swap(doc) {
    var active = document.activeElement;
    var refocus = null;
    regions.forEach(function (selector) {
      var current = document.querySelector(selector);
      var next = doc.querySelector(selector);
      if (!current || !next) {
        return;
      }
      if (active && current.contains(active) && !active.closest("form")) {
        refocus = focusSelector(active);
      }
      replaceKeepingForms(current, next);
    });
    if (refocus) {
      var target = document.querySelector(refocus);
      if (target) {
        target.focus();
      }
    }
    document.querySelectorAll(".cases__number").forEach(function (cell) {
      var number = cell.textContent.trim().split(/\s/)[0];
      if (fresh[number]) {
        cell.parentElement.classList.add("cases__row--new");
      }
    });
    fresh = {};
  }

  // One fetch at a time; changes that arrive meanwhile are folded into one more fetch after it.
  var fetching = false;
  var again = false;
  function refresh() {
    if (fetching) {
      again = true;
      return;
    }
    fetching = true;
    fetch(location.href, { credentials: "same-origin", headers: { Accept: "text/html" } })
      .then(function (response) {
        if (!response.ok || response.redirected) {
          throw new Error("status " + response.status);
        }
        return response.text();
      })
      .then(function (html) {
        swap(new DOMParser().parseFromString(html, "text/html"));
      })
      .catch(function () { /* the next change, or a reload, brings the page up to date */ })
      .then(function () {
        fetching = false;
        if (again) {
          again = false;
          refresh();
        }
      });
  }

  function showCaseNotice() {
    if (document.getElementById("live-case-notice")) {
      return;
    }
    var notice = document.createElement("p");
    notice.id = "live-case-notice";
    notice.className = "banner banner--info live-notice";
    notice.appendChild(document.createTextNode("此诉求有新动态。"));
    var link = document.createElement("a");
    link.href = location.href;
    link.textContent = "刷新查看";
    notice.appendChild(link);
    var main = document.getElementById("main");
    main.insertBefore(notice, main.firstChild);
    announce("此诉求有新动态");
  }

  function onInquiry(event) {
    lastId = event.lastEventId || lastId;
    var change = JSON.parse(event.data);
    if (change.notify) {
      bump(1);
    }
    if (caseNumber !== null && change.number === caseNumber) {
      showCaseNotice();
    }
    if (regions) {
      fresh[change.number] = true;
      announce(change.action === "intake" ? "新诉求 " + change.number : change.number + " " + change.label);
      refresh();
    }
  }

  function onReset(event) {
    lastId = event.lastEventId || lastId;
    if (regions) {
      refresh();
    } else if (caseNumber !== null) {
      showCaseNotice();
    }
  }

  function connect() {
    var source = new EventSource("/inbox/events?after=" + encodeURIComponent(lastId));
    source.addEventListener("inquiry", onInquiry);
    source.addEventListener("reset", onReset);
    source.addEventListener("signed-out", function () {
      source.close();
    });
    source.addEventListener("error", function () {
      // The browser reconnects by itself (sending Last-Event-ID) unless the server refused the stream.
      if (source.readyState === EventSource.CLOSED) {
        setTimeout(connect, RETRY_CLOSED_MS);
      }
    });
  }

  connect();
})();
