// Accessible tabs for the preview page ([data-tabs]); without script every panel simply shows.
document.addEventListener("DOMContentLoaded", function () {
  document.querySelectorAll("[data-tabs]").forEach(function (box) {
    var list = box.querySelector("[role=tablist]");
    var tabs = Array.prototype.slice.call(list.querySelectorAll("[role=tab]"));
    function panel(tab) { return document.getElementById(tab.getAttribute("aria-controls")); }
    function select(tab, focus) {
      tabs.forEach(function (t) {
        var on = t === tab;
        t.setAttribute("aria-selected", on ? "true" : "false");
        t.tabIndex = on ? 0 : -1;
        panel(t).hidden = !on;
      });
      if (focus) tab.focus();
    }
    tabs.forEach(function (tab, i) {
      tab.addEventListener("click", function () { select(tab, false); });
      tab.addEventListener("keydown", function (e) {
        var next = {ArrowRight: i + 1, ArrowLeft: i - 1, Home: 0, End: tabs.length - 1}[e.key];
        if (next === undefined) return;
        e.preventDefault();
        select(tabs[(next + tabs.length) % tabs.length], true);
      });
    });
    list.hidden = false;
    box.classList.add("tabs-on");
    var wanted = tabs.filter(function (t) { return "#" + t.getAttribute("aria-controls") === location.hash; })[0];
    select(wanted || tabs[0], false);
    window.addEventListener("hashchange", function () {
      var t = tabs.filter(function (t) { return "#" + t.getAttribute("aria-controls") === location.hash; })[0];
      if (t) select(t, false);
    });
  });
});

// Email frames ([data-fit]) as tall as the email in them, so its footer is never hidden. The
// frames are sandboxed without scripts; same origin only lets this page measure them.
(function () {
  function fit(frame) {
    var doc;
    try { doc = frame.contentDocument; } catch (e) { return; }
    if (!doc || !doc.documentElement || !frame.offsetParent) return;  // not loaded, or hidden
    frame.style.height = "0px";  // measure the email, not the frame it had
    frame.style.height = doc.documentElement.scrollHeight + "px";
  }
  function fitAll() {
    document.querySelectorAll("iframe[data-fit]").forEach(fit);
  }
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("iframe[data-fit]").forEach(function (frame) {
      frame.addEventListener("load", function () { fit(frame); });
      fit(frame);
    });
    document.querySelectorAll("[role=tab]").forEach(function (tab) {
      tab.addEventListener("click", fitAll);
      tab.addEventListener("keyup", fitAll);
    });
    var timer;
    window.addEventListener("resize", function () { clearTimeout(timer); timer = setTimeout(fitAll, 100); });
  });
  window.addEventListener("load", fitAll);
})();
