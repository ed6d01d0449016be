/* The crew check's progress: rows go to the server ten at a time and each row's answer is filled
   in as it comes, with a progress bar. Without scripts the form posts once and the server answers
   with the whole table. Interrupted, the button continues with the rows not yet checked. */
(function () {
  "use strict";
  var only = document.getElementById("crew-problems"), table = document.getElementById("crew-table");
  if (only && table) {
    only.parentNode.hidden = false;
    only.addEventListener("change", function () { table.classList.toggle("only-problems", only.checked); });
  }
  var form = document.querySelector("form.js-crew");
  if (!form || !window.fetch || !window.FormData) { return; }
  var items = Array.prototype.map.call(form.querySelectorAll("input[name=item]"), function (x) { return x.value; });
  var indexes = Array.prototype.map.call(form.querySelectorAll("input[name=index]"), function (x) { return x.value; });
  var chunk = parseInt(form.getAttribute("data-chunk"), 10) || 10;
  var token = form.querySelector("input[name=csrf_token]").value;
  var host = form.querySelector("input[name=host]").value;
  var box = document.getElementById("crew-progress"), bar = box.querySelector("progress"), label = box.querySelector(".label");
  var button = form.querySelector("button[type=submit]");
  var offset = 0, ids = [];
  function say(key) {
    return form.getAttribute(key).replace("{done}", String(offset)).replace("{total}", String(items.length));
  }
  function bump(key, by) {
    var b = document.querySelector("#crew-stats [data-count=" + key + "]");
    if (b) { b.textContent = String((parseInt(b.textContent, 10) || 0) + by); }
  }
  function fill(r) {
    var row = document.querySelector("#crew-table tr[data-index='" + r.index + "']");
    if (!row) { return; }
    row.className = "is-" + r.outcome;
    var cell = row.querySelector(".result"), detail = row.querySelector(".detail");
    var badge = document.createElement("span");
    badge.className = "badge " + r.style; badge.textContent = r.label;
    cell.textContent = "";
    if (r.href) { var a = document.createElement("a"); a.href = r.href; a.appendChild(badge); cell.appendChild(a); }
    else { cell.appendChild(badge); }
    detail.textContent = r.message || "";
    if (r.href) {
      var open = document.createElement("a"); open.href = r.href; open.className = "noprint";
      open.textContent = form.getAttribute("data-open") || "›";
      detail.appendChild(document.createTextNode(" ")); detail.appendChild(open);
    }
    if (r.check_id) { ids.push(r.check_id); }
    bump(r.outcome, 1); bump("ready", -1);
  }
  function finish() {
    label.textContent = say("data-done");
    document.getElementById("crew-done").hidden = false;
    document.getElementById("crew-start-actions").hidden = true;
    var link = document.getElementById("crew-receipts");
    if (ids.length) { link.href = "/console/prestart/receipts?ids=" + ids.join(","); link.hidden = false; }
  }
  function step() {
    if (offset >= items.length) { finish(); return; }
    var data = new FormData();
    data.append("csrf_token", token); data.append("host", host);
    items.slice(offset, offset + chunk).forEach(function (v, i) {
      data.append("item", v); data.append("index", indexes[offset + i]);
    });
    fetch(form.action, { method: "POST", body: data, credentials: "same-origin",
                         headers: { "Accept": "application/json", "X-CSRF-Token": token } })
      .then(function (r) { if (!r.ok) { throw new Error(String(r.status)); } return r.json(); })
      .then(function (res) {
        res.results.forEach(fill);
        offset += res.results.length;
        bar.value = offset; label.textContent = say("data-progress");
        step();
      })
      .catch(function () { label.textContent = form.getAttribute("data-error"); button.disabled = false; });
  }
  form.addEventListener("submit", function (ev) {
    ev.preventDefault();
    box.hidden = false; bar.max = items.length || 1; button.disabled = true;
    label.textContent = say("data-progress");
    step();
  });
})();
