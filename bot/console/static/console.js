// Luotsi adviser console: live updates of the list and the open ticket (server-sent events from
// /console/events), insertion of saved and catalogue replies, and keyboard shortcuts. The console
// works without it; this only saves reloads and keystrokes.
(function () {
  "use strict";
  var body = document.body;
  var status = document.getElementById("live-status");

  function announce(text) {
    if (!status || !text) return;
    status.hidden = false;
    status.textContent = text;
  }

  // ---- live updates ----
  function replaceFrom(doc, ids) {
    var active = document.activeElement;
    var changed = false;
    ids.forEach(function (id) {
      var here = document.getElementById(id);
      var there = doc.getElementById(id);
      if (!here || !there) return;
      if (active && here.contains(active) && active !== document.body) return; // never pull the focus away
      if (here.innerHTML !== there.innerHTML) { here.innerHTML = there.innerHTML; changed = true; }
    });
    return changed;
  }

  function refresh(ids, message) {
    fetch(window.location.href, { credentials: "same-origin", headers: { "Accept": "text/html" } })
      .then(function (r) { return r.ok ? r.text() : null; })
      .then(function (html) {
        if (!html) return;
        var doc = new DOMParser().parseFromString(html, "text/html");
        if (replaceFrom(doc, ids)) announce(message);
      })
      .catch(function () { /* the next event tries again */ });
  }

  var live = body.getAttribute("data-live") || "";
  if (live && window.EventSource) {
    var url = "/console/events?v=" + encodeURIComponent(body.getAttribute("data-stamp") || "") +
      (live.indexOf("ticket:") === 0 ? "&ticket=" + encodeURIComponent(live.slice(7)) : "");
    var source = new EventSource(url);
    source.addEventListener("changed", function () {
      if (live === "list") refresh(["worklist", "queue-depths", "mine"], body.getAttribute("data-updated"));
      else refresh(["transcript", "notes", "ticket-facts"], body.getAttribute("data-new-message"));
    });
  }

  // ---- saved and catalogue replies ----
  function insertReply(select) {
    var option = select.options[select.selectedIndex];
    var box = document.getElementById("reply");
    if (!option || !option.value || !box) return false;
    var text = option.getAttribute("data-text") || "";
    var start = box.selectionStart || 0, end = box.selectionEnd || 0;
    box.value = box.value.slice(0, start) + text + box.value.slice(end);
    var written = option.getAttribute("data-language");
    var radio = written && document.querySelector('input[name="written_in"][value="' + written + '"]');
    if (radio) radio.checked = true;
    else { var own = document.querySelector('input[name="written_in"][value=""]'); if (own) own.checked = true; }
    box.focus();
    return true;
  }
  document.querySelectorAll("form.insert-reply").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      var select = form.querySelector("select");
      if (select && insertReply(select)) event.preventDefault();
    });
  });

  // ---- keyboard shortcuts ----
  var toggle = document.getElementById("shortcuts-toggle");
  var on = true;
  try { on = window.localStorage.getItem("luotsi.shortcuts") !== "off"; } catch (e) { /* private mode */ }
  if (toggle) {
    toggle.checked = on;
    toggle.addEventListener("change", function () {
      on = toggle.checked;
      try { window.localStorage.setItem("luotsi.shortcuts", on ? "on" : "off"); } catch (e) { /* ignore */ }
      announce(body.getAttribute(on ? "data-shortcuts-on" : "data-shortcuts-off"));
    });
  }
  function typing(target) {
    var tag = target && target.tagName;
    return tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT" || (target && target.isContentEditable);
  }
  document.addEventListener("keydown", function (event) {
    if ((event.ctrlKey || event.metaKey) && event.key === "Enter" && event.target && event.target.form &&
        event.target.tagName === "TEXTAREA") {
      event.preventDefault();
      event.target.form.requestSubmit ? event.target.form.requestSubmit() : event.target.form.submit();
      return;
    }
    if (!on || event.ctrlKey || event.metaKey || event.altKey || typing(event.target)) return;
    var target = null;
    if (event.key === "/") target = document.getElementById("f-q");
    else if (event.key === "r") target = document.getElementById("reply");
    else if (event.key === "n") target = document.getElementById("note");
    else if (event.key === "c") { var claim = document.getElementById("claim-next"); if (claim) { event.preventDefault(); claim.click(); } return; }
    else if (event.key === "g") { event.preventDefault(); window.location.href = "/console"; return; }
    if (target) { event.preventDefault(); target.focus(); }
  });
})();
