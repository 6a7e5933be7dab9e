/*
 * Luotsi web chat widget. Embed on any page with one tag:
 *   <script src="https://<luotsi-host>/widget.js" async></script>
 * Optional attributes: data-locale="fi" (the page's language, used when the browser's is not one
 * the assistant speaks), data-inline="#element-id" (render inside that element instead of a
 * floating button). The customer can pick the language from the panel's header.
 * No dependencies, no build step. The conversation survives a reload (localStorage).
 */
(function () {
  "use strict";
  var script = document.currentScript;
  var base = script ? new URL(script.src, location.href).origin : location.origin;
  var pageLocale = (script && script.getAttribute("data-locale")) || document.documentElement.lang || "";
  var inlineTarget = script && script.getAttribute("data-inline");
  var KEY = "luotsi.v1";
  var RTL = { ar: 1, fa: 1, ur: 1, he: 1 };
  var KNOWN = "fi sv en ru uk et ar so fa zh vi tr sq ku es fr de pl it pt nl hi th ro lt lv hu da nb".split(" ");
  // The languages the assistant speaks, each in its own name (the picker's options).
  var OWN_NAMES = [["fi", "Suomi"], ["sv", "Svenska"], ["en", "English"], ["ru", "Русский"], ["uk", "Українська"],
                   ["et", "Eesti"], ["ar", "العربية"], ["so", "Soomaali"]];
  var SPOKEN = OWN_NAMES.map(function (p) { return p[0]; });

  function lang2(tag) { return String(tag || "").toLowerCase().split(/[-_]/)[0]; }
  function knownLocale(tag) { return KNOWN.indexOf(lang2(tag)) >= 0 ? tag : null; }
  // The browser's languages come first (a Somali phone on a Finnish city page gets Somali), then
  // the page's own language.
  function browserLocale() {
    var tags = (navigator.languages && navigator.languages.length ? navigator.languages : [navigator.language || ""]);
    for (var i = 0; i < tags.length; i++) { if (SPOKEN.indexOf(lang2(tags[i])) >= 0) return tags[i]; }
    return knownLocale(pageLocale) || (tags[0] && knownLocale(tags[0])) || null;
  }
  function newId() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID().replace(/-/g, "");
    return (Date.now().toString(36) + Math.random().toString(36).slice(2)).slice(0, 32);
  }
  function load() {
    try { var s = JSON.parse(localStorage.getItem(KEY)); if (s && s.id) return s; } catch (e) { /* fresh */ }
    return { id: newId(), language: null, log: [], open: false, handoff: false, lastId: 0 };
  }
  var state = load();
  function save() {
    try { state.log = state.log.slice(-200); localStorage.setItem(KEY, JSON.stringify(state)); } catch (e) { /* private mode */ }
  }

  var css = [
    ".luotsi{--l-accent:#0050a0;font:16px/1.45 system-ui,-apple-system,'Segoe UI',Roboto,'Noto Sans','Noto Sans Arabic',sans-serif;color:#1b1b1b}",
    ".luotsi *{box-sizing:border-box}",
    ".luotsi [hidden]{display:none !important}",
    ".luotsi-launch{position:fixed;bottom:20px;inset-inline-end:20px;z-index:2147483000;background:var(--l-accent);color:#fff;border:0;border-radius:28px;padding:14px 20px;font:inherit;font-weight:600;cursor:pointer;box-shadow:0 4px 14px rgba(0,0,0,.25)}",
    ".luotsi-panel{display:flex;flex-direction:column;background:#fff;border:1px solid #c8ccd2;border-radius:12px;overflow:hidden}",
    ".luotsi-floating{position:fixed;bottom:84px;inset-inline-end:20px;width:min(380px,calc(100vw - 24px));height:min(600px,calc(100vh - 110px));z-index:2147483000;box-shadow:0 8px 30px rgba(0,0,0,.25)}",
    ".luotsi-inline{width:100%;height:100%;min-height:420px}",
    ".luotsi-head{display:flex;align-items:center;gap:8px;background:var(--l-accent);color:#fff;padding:10px 14px}",
    ".luotsi-head h2{font-size:1rem;margin:0;flex:1}",
    ".luotsi-head button{background:transparent;color:#fff;border:1px solid rgba(255,255,255,.6);border-radius:6px;padding:4px 8px;font:inherit;font-size:.85rem;cursor:pointer}",
    ".luotsi-log{flex:1;overflow-y:auto;padding:12px;display:flex;flex-direction:column;gap:8px;background:#f5f7fa;margin:0;list-style:none}",
    ".luotsi-msg{max-width:85%;padding:8px 12px;border-radius:12px;white-space:pre-wrap;overflow-wrap:anywhere}",
    ".luotsi-bot{align-self:flex-start;background:#fff;border:1px solid #dde1e6}",
    ".luotsi-you{align-self:flex-end;background:#dcebff}",
    ".luotsi-sr{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}",
    ".luotsi-buttons{display:flex;flex-wrap:wrap;gap:6px;margin-top:8px}",
    ".luotsi-buttons button{background:#fff;color:var(--l-accent);border:1px solid var(--l-accent);border-radius:16px;padding:5px 12px;font:inherit;font-size:.9rem;cursor:pointer}",
    ".luotsi button:focus-visible,.luotsi textarea:focus-visible,.luotsi select:focus-visible,.luotsi-log:focus-visible{outline:3px solid #0b0c0c;outline-offset:2px}",
    ".luotsi-head button:focus-visible,.luotsi-head select:focus-visible,.luotsi-launch:focus-visible{outline-color:#fff;box-shadow:0 0 0 6px #0b0c0c}",
    ".luotsi-head select{background:#fff;color:#1b1b1b;border:0;border-radius:6px;padding:3px 4px;font:inherit;font-size:.85rem;max-width:8.5em}",
    ".luotsi-buttons button:disabled{color:#4a4f55;border-color:#8a9099;cursor:default}",
    "@media (max-width:480px),(max-height:560px){.luotsi-floating{inset:0;width:100vw;height:100vh;height:100dvh;border-radius:0;border:0}.luotsi-floating:not([hidden])~.luotsi-launch{display:none}.luotsi-note{font-size:.75rem;padding:4px 10px 0}.luotsi-head{padding:6px 10px;gap:6px}.luotsi-head h2{font-size:.9rem;white-space:nowrap;overflow:hidden;text-overflow:ellipsis}.luotsi-restart{font-size:0 !important}.luotsi-restart::before{content:'\\21bb';font-size:1.1rem}.luotsi-form{padding:6px}}",
    ".luotsi-queue{margin:0;padding:6px 14px;font-size:.85rem;background:#eef3fa;color:#1b1b1b;border-top:1px solid #dde1e6}.luotsi-queue:empty{padding:0;border:0}",
    ".luotsi-typing{padding:0 14px 6px;color:#555;font-size:.85rem;min-height:1.3em;background:#f5f7fa}",
    ".luotsi-form{display:flex;gap:8px;padding:10px;border-top:1px solid #dde1e6}",
    ".luotsi-form textarea{flex:1;resize:none;font:inherit;padding:8px;border:1px solid #8a9099;border-radius:8px;min-height:44px;max-height:140px}",
    ".luotsi-form button{background:var(--l-accent);color:#fff;border:0;border-radius:8px;padding:0 16px;font:inherit;font-weight:600;cursor:pointer}",
    ".luotsi-note{font-size:.8rem;color:#555;padding:6px 12px 0}",
    ".luotsi-error{color:#a00000}",
    ".luotsi-msg a{color:var(--l-accent);text-decoration:underline}",
    ".luotsi-adviser{border-color:#0050a0;border-width:2px}",
    ".luotsi-mt{display:block;font-size:.8em;color:#555;margin-top:4px}.luotsi-original{font-size:.85em;color:#333}",
    ".luotsi-who{display:block;font-size:.8rem;font-weight:700;color:var(--l-accent);margin-bottom:2px}"
  ].join("\n");

  var strings = {}, stringsLang = null;
  var root, panel, logEl, typingEl, input, sendBtn, titleEl, restartBtn, closeBtn, launchBtn, introEl, privacyEl, liveEl, picker, queueEl;

  function t(key, fallback) { return strings[key] || fallback; }

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text != null) e.textContent = text; // customer and bot text are always text, never HTML
    return e;
  }

  function applyDirection(lang) {
    var code = lang2(lang);
    root.setAttribute("lang", code || "en");
    root.setAttribute("dir", RTL[code] ? "rtl" : "ltr");
  }

  function loadStrings(lang) {
    var code = lang2(lang) || "en";
    if (code === stringsLang) return Promise.resolve();
    return fetch(base + "/api/webchat/strings/" + encodeURIComponent(code))
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (data) {
        if (!data) return;
        strings = data.strings || {};
        stringsLang = code;
        applyDirection(code);
        paintChrome();
        repaintLog();
      })
      .catch(function () { /* keep the current chrome */ });
  }

  function repaintLog() {
    // the screen-reader names ("You:", "Adviser:") follow the conversation's language
    if (!logEl) return;
    logEl.textContent = "";
    state.log.forEach(function (m) { addMessage(m, false); });
    introEl.hidden = state.log.length > 0;
  }

  function paintChrome() {
    titleEl.textContent = t("title", "Luotsi");
    input.setAttribute("placeholder", t("placeholder", "Write your message…"));
    input.setAttribute("aria-label", t("placeholder", "Write your message…"));
    sendBtn.textContent = t("send", "Send");
    restartBtn.textContent = t("restart", "New conversation");
    logEl.setAttribute("aria-label", t("log_label", "Conversation"));
    introEl.textContent = t("intro", "");
    privacyEl.textContent = t("privacy", "");
    if (closeBtn) closeBtn.textContent = "×", closeBtn.setAttribute("aria-label", t("close", "Close chat"));
    if (launchBtn) launchBtn.textContent = panel.hidden ? t("open", "Open chat") : t("close", "Close chat");
    picker.setAttribute("aria-label", t("language", "Language"));
    picker.value = SPOKEN.indexOf(lang2(state.language || stringsLang)) >= 0 ? lang2(state.language || stringsLang) : "";
  }

  // Official pages in answers become links; built with DOM nodes, never innerHTML, so any
  // text — the customer's included — stays text.
  function linkify(text, links) {
    var span = el("span");
    var parts = links ? String(text).split(/(https:\/\/[^\s)]+)/) : [String(text)];
    parts.forEach(function (part, i) {
      if (i % 2 === 1) {
        var a = el("a", null, part); a.href = part; a.target = "_blank"; a.rel = "noopener noreferrer";
        span.appendChild(a);
      } else if (part) {
        span.appendChild(document.createTextNode(part));
      }
    });
    return span;
  }

  function addMessage(entry, announce) {
    var li = el("div", "luotsi-msg " + (entry.from === "you" ? "luotsi-you" : entry.from === "adviser" ? "luotsi-bot luotsi-adviser" : "luotsi-bot"));
    if (entry.error) li.className += " luotsi-error";
    var name = entry.from === "you" ? t("you", "You") : entry.from === "adviser" ? t("adviser", "Adviser") : t("bot", "Luotsi");
    if (entry.from === "adviser") {
      li.appendChild(el("span", "luotsi-who", name));  // a person answers now: say so visibly
    } else {
      li.appendChild(el("span", "luotsi-sr", name + ": "));
    }
    var body = linkify(entry.text, entry.from !== "you");
    if (entry.lang) { body.setAttribute("lang", entry.lang); }
    body.setAttribute("dir", "auto");
    li.appendChild(body);
    if (entry.marker) {
      // every machine translation is marked, and the original is one click away
      li.appendChild(el("span", "luotsi-mt", entry.marker));
      if (entry.original) {
        var details = el("details", "luotsi-original");
        details.appendChild(el("summary", null, entry.originalLabel || "Original"));
        var original = el("div", null, entry.original);
        original.setAttribute("dir", "auto");
        details.appendChild(original);
        li.appendChild(details);
      }
    }
    if (entry.buttons && entry.buttons.length) {
      var box = el("div", "luotsi-buttons");
      entry.buttons.forEach(function (b) {
        var btn = el("button", null, b.title);
        btn.type = "button";
        if (entry.done) btn.disabled = true;
        btn.addEventListener("click", function () { if (!btn.disabled) send(b.payload, b.title); });
        box.appendChild(btn);
      });
      li.appendChild(box);
    }
    logEl.appendChild(li);
    logEl.scrollTop = logEl.scrollHeight;
    introEl.hidden = true;  // once the conversation runs, its messages get the room
    if (announce && entry.from !== "you") {
      // one polite live region reads new answers aloud without stealing focus, naming who speaks
      liveEl.textContent = "";
      liveEl.textContent = name + ": " + entry.text;
    }
  }

  function setTyping(on) {
    typingEl.textContent = on ? t("typing", "Luotsi is writing…") : "";
    sendBtn.disabled = on;
  }

  function send(text, shown) {
    text = String(text || "").trim();
    if (!text) return;
    // earlier quick replies are answered or passed by: they no longer act
    Array.prototype.forEach.call(logEl.querySelectorAll(".luotsi-buttons button"), function (b) { b.disabled = true; });
    state.log.forEach(function (m) { m.done = true; });
    var you = { from: "you", text: shown || text };
    state.log.push(you); save(); addMessage(you, false);
    setTyping(true);
    var body = { conversation_id: state.id, text: text };
    var loc = state.language || browserLocale();
    if (loc) body.locale = loc;
    if (state.chosen) { body.language = state.chosen; state.chosen = null; }
    fetch(base + "/api/chat", {
      method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body)
    }).then(function (r) {
      return r.json().then(function (data) { return { ok: r.ok, data: data }; });
    }).then(function (res) {
      setTyping(false);
      if (!res.ok) {
        var err = { from: "bot", text: (res.data && res.data.error && res.data.error.message) || t("network_error", "Error"), error: true };
        addMessage(err, true);
        return;
      }
      var lang = res.data.language;
      var ready = lang && lang !== "und" && lang !== state.language ? loadStrings(lang) : Promise.resolve();
      if (lang && lang !== "und") state.language = lang;
      if (res.data.ticket) { state.handoff = true; save(); listen(); }
      ready.then(function () {
        (res.data.replies || []).forEach(function (r) {
          var entry = { from: "bot", text: r.text, buttons: r.buttons || [], lang: lang };
          state.log.push(entry); addMessage(entry, true);
        });
        save();
      });
    }).catch(function () {
      setTyping(false);
      addMessage({ from: "bot", text: t("network_error", "Connection problem. Your message was not sent — try again."), error: true }, true);
    });
  }

  function build() {
    var style = el("style"); style.textContent = css; document.head.appendChild(style);
    root = el("div", "luotsi");
    liveEl = el("div", "luotsi-sr"); liveEl.setAttribute("aria-live", "polite"); liveEl.setAttribute("role", "status");
    panel = el("section", "luotsi-panel");
    panel.setAttribute("aria-labelledby", "luotsi-title");
    var head = el("div", "luotsi-head");
    titleEl = el("h2", null, "Luotsi"); titleEl.id = "luotsi-title";
    restartBtn = el("button", "luotsi-restart"); restartBtn.type = "button";
    restartBtn.addEventListener("click", function () {
      // an adviser's answer is on its way to this conversation: a new one would lose it
      if (state.handoff && !window.confirm(t("restart_confirm", "An adviser will answer in this conversation. Start a new one anyway?"))) return;
      if (source) { source.close(); source = null; }
      queueEl.textContent = "";
      state = { id: newId(), language: state.language, log: [], open: true, handoff: false, lastId: 0 }; save();
      logEl.textContent = ""; introEl.hidden = false; input.focus();
    });
    picker = el("select", "luotsi-language");
    picker.appendChild(el("option", null, "🌐")).value = "";
    OWN_NAMES.forEach(function (p) {
      var o = el("option", null, p[1]); o.value = p[0]; o.setAttribute("lang", p[0]); picker.appendChild(o);
    });
    picker.addEventListener("change", function () {
      if (!picker.value) return;
      state.language = picker.value; state.chosen = picker.value; save();
      loadStrings(picker.value);
    });
    head.appendChild(titleEl); head.appendChild(picker); head.appendChild(restartBtn);
    introEl = el("p", "luotsi-note");
    privacyEl = el("p", "luotsi-note");
    logEl = el("div", "luotsi-log"); logEl.setAttribute("role", "log"); logEl.setAttribute("tabindex", "0");
    typingEl = el("div", "luotsi-typing"); typingEl.setAttribute("aria-hidden", "true");
    // the place in the queue while a ticket waits: one line, replaced as it changes, read out politely
    queueEl = el("p", "luotsi-queue"); queueEl.setAttribute("role", "status"); queueEl.setAttribute("aria-live", "polite");
    queueEl.setAttribute("aria-atomic", "true"); queueEl.setAttribute("dir", "auto");
    var form = el("form", "luotsi-form");
    input = el("textarea"); input.rows = 1; input.maxLength = 5000; input.name = "message";
    sendBtn = el("button", "luotsi-send"); sendBtn.type = "submit";
    form.appendChild(input); form.appendChild(sendBtn);
    form.addEventListener("submit", function (e) { e.preventDefault(); var v = input.value; input.value = ""; send(v); });
    input.addEventListener("keydown", function (e) {
      if (e.key === "Enter" && !e.shiftKey && !e.isComposing) { e.preventDefault(); form.requestSubmit ? form.requestSubmit() : form.dispatchEvent(new Event("submit")); }
    });
    panel.appendChild(head); panel.appendChild(introEl); panel.appendChild(privacyEl);
    panel.appendChild(logEl); panel.appendChild(queueEl); panel.appendChild(typingEl); panel.appendChild(form);
    root.appendChild(liveEl);

    var host = inlineTarget && document.querySelector(inlineTarget);
    if (host) {
      panel.className += " luotsi-inline";
      root.appendChild(panel); host.appendChild(root);
    } else {
      panel.className += " luotsi-floating";
      panel.hidden = !state.open;
      launchBtn = el("button", "luotsi-launch"); launchBtn.type = "button";
      launchBtn.setAttribute("aria-expanded", String(!!state.open));
      launchBtn.addEventListener("click", function () { toggle(panel.hidden); });
      closeBtn = el("button"); closeBtn.type = "button";
      closeBtn.addEventListener("click", function () { toggle(false); });
      head.appendChild(closeBtn);
      panel.addEventListener("keydown", function (e) { if (e.key === "Escape") toggle(false); });
      root.appendChild(panel); root.appendChild(launchBtn); document.body.appendChild(root);
    }
    applyDirection(state.language || lang2(browserLocale()) || "en");
    paintChrome();
    repaintLog();
    loadStrings(state.language || lang2(browserLocale()) || "en");
    if (state.handoff) listen();
  }

  // While an adviser owns the conversation, their replies arrive as server-sent events.
  var source = null;
  function listen() {
    if (source || !window.EventSource) return;
    source = new EventSource(base + "/api/chat/" + encodeURIComponent(state.id) + "/events?after=" + (state.lastId || 0));
    source.addEventListener("message", function (e) {
      var data; try { data = JSON.parse(e.data); } catch (err) { return; }
      if (data.id <= (state.lastId || 0)) return;
      state.lastId = data.id;
      var entry = { from: data.sender === "adviser" ? "adviser" : "bot", text: data.text, buttons: data.buttons || [], lang: state.language,
                    marker: data.marker || null, original: data.original || null, originalLabel: data.original_label || null };
      state.log.push(entry); addMessage(entry, true);
      if (data.handler === "bot") { state.handoff = false; source.close(); source = null; queueEl.textContent = ""; }
      save();
    });
    source.addEventListener("queue", function (e) {
      var data; try { data = JSON.parse(e.data); } catch (err) { return; }
      if (queueEl.textContent !== (data.text || "")) queueEl.textContent = data.text || "";
      if (data.text) queueEl.setAttribute("lang", state.language || "en");
    });
  }

  function toggle(open) {
    panel.hidden = !open; state.open = open; save();
    launchBtn.setAttribute("aria-expanded", String(open));
    launchBtn.textContent = open ? t("close", "Close chat") : t("open", "Open chat");
    if (open) input.focus(); else launchBtn.focus();
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", build); else build();
})();
