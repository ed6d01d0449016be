/* The console's small helpers: no framework, and every page works without them.
   - forms marked js-busy show their progress bar and lock their buttons while the server works;
   - the attendance grid's "tick all" and per-column buttons;
   - print buttons;
   - issuing certificates in chunks with a live progress bar (js-issue), falling back to one
     ordinary POST when scripts are off. */
(function () {
  "use strict";
  function each(sel, fn, root) { Array.prototype.forEach.call((root || document).querySelectorAll(sel), fn); }

  each("form.js-busy", function (form) {
    form.addEventListener("submit", function () {
      var bar = form.querySelector(".progress") || (form.parentNode && form.parentNode.querySelector(".progress"));
      if (bar) { bar.hidden = false; }
      setTimeout(function () { each("button[type=submit]", function (b) { b.disabled = true; }, form); }, 0);
    });
  });

  each(".js-print", function (b) { b.addEventListener("click", function () { window.print(); }); });

  each("form.js-grid", function (form) {
    each(".js-all", function (b) {
      b.addEventListener("click", function () {
        var boxes = form.querySelectorAll("input[name=cell]");
        var any = Array.prototype.some.call(boxes, function (x) { return !x.checked; });
        each("input[name=cell]", function (x) { x.checked = any; }, form);
      });
    }, form);
    each(".js-col", function (b) {
      b.addEventListener("click", function () {
        var sel = "input[name=cell][data-col='" + b.getAttribute("data-col") + "']";
        var boxes = form.querySelectorAll(sel);
        var any = Array.prototype.some.call(boxes, function (x) { return !x.checked; });
        each(sel, function (x) { x.checked = any; }, form);
      });
    }, form);
  });

  each("form.js-issue", function (form) {
    form.addEventListener("submit", function (ev) {
      if (!window.fetch) { return; }
      ev.preventDefault();
      var total = parseInt(form.getAttribute("data-total"), 10) || 0;
      var box = document.getElementById("issue-progress");
      var bar = box.querySelector("progress"), label = box.querySelector(".label");
      var table = document.getElementById("issue-results"), body = table.querySelector("tbody");
      var token = form.querySelector("input[name=csrf_token]").value;
      box.hidden = false; table.hidden = false; bar.max = total; bar.value = 0;
      each("button[type=submit]", function (b) { b.disabled = true; }, form);
      function step(offset) {
        var data = new FormData(); data.append("csrf_token", token); data.append("offset", String(offset));
        fetch(form.action, { method: "POST", body: data, credentials: "same-origin",
                             headers: { "Accept": "application/json", "X-CSRF-Token": token } })
          .then(function (r) { if (!r.ok) { throw new Error(String(r.status)); } return r.json(); })
          .then(function (res) {
            res.results.forEach(function (row) {
              var tr = document.createElement("tr");
              [row.name, row.masked, row.label, row.detail].forEach(function (text, i) {
                var td = document.createElement("td"); td.textContent = text || "";
                if (i === 1) { td.className = "mono"; }
                if (i === 2) { td.innerHTML = ""; var s = document.createElement("span"); s.className = "badge " + row.style; s.textContent = text; td.appendChild(s); }
                tr.appendChild(td);
              });
              body.appendChild(tr);
            });
            bar.value = res.next_offset; label.textContent = res.progress_text;
            if (res.next_offset < res.total) { step(res.next_offset); }
            else { label.textContent = res.done_text; var again = document.getElementById("issue-done"); if (again) { again.hidden = false; } }
          })
          .catch(function () { label.textContent = form.getAttribute("data-error"); each("button[type=submit]", function (b) { b.disabled = false; }, form); });
      }
      step(0);
    });
  });
})();
