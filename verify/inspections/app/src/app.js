// The inspector's scanner: screens, and the wiring between the verifier, the device's store and
// the server. Verification is offline first (verdict.js on the signed lists held in IndexedDB);
// when the network answers, the server's online verdict replaces it and the scan is recorded;
// otherwise the scan waits in the queue and uploads when the network is back (sync.js).

import { RESULT_LEADS, RESULT_TITLES, getLang, pick, setLang, w } from "./i18n.js";
import { ed25519Backend } from "./ed25519.js";
import { checkIdNumber, maskId, maskName, normalizeId } from "./idcard.js";
import { ListError, listsAgeSeconds, loadLists, refreshLists, resetPin } from "./lists.js";
import { Scanner } from "./scanner.js";
import {
  allInspections, allScans, delKv, getKv, newRef, putInspection, putScan, scansIn, setKv,
} from "./store.js";
import { AuthError, uploadInspections, uploadScans } from "./sync.js";
import { epochEndToDate, parseSerial, serialText, toHex } from "./token.js";
import { reviewRequired, verifyOffline } from "./verdict.js";

const CONFIG = JSON.parse(document.getElementById("inspect-config").textContent);
const OK = new Set(["valid"]);
const WARN = new Set(["review_overdue", "suspect"]);
const ICON_CAMERA = `<svg class="ico-svg" viewBox="0 0 24 24" aria-hidden="true"><path fill="currentColor" d="M9 3 7.2 5H4a2 2 0 0 0-2 2v11a2 2 0 0 0 2 2h16a2 2 0 0 0 2-2V7a2 2 0 0 0-2-2h-3.2L15 3H9zm3 5a5 5 0 1 1 0 10 5 5 0 0 1 0-10zm0 2a3 3 0 1 0 0 6 3 3 0 0 0 0-6z"/></svg>`;
const ICON_PERSON = `<svg class="ico-svg" viewBox="0 0 24 24" aria-hidden="true"><path fill="currentColor" d="M3 5h18a1 1 0 0 1 1 1v12a1 1 0 0 1-1 1H3a1 1 0 0 1-1-1V6a1 1 0 0 1 1-1zm5 3a2.5 2.5 0 1 0 0 5 2.5 2.5 0 0 0 0-5zm-4 8.5h8c0-2-1.8-3.2-4-3.2s-4 1.2-4 3.2zM14 9v1.6h5V9h-5zm0 3.4V14h4v-1.6h-4z"/></svg>`;
const S = {
  view: "home", lists: null, messages: {}, roles: [], sites: [], siteId: null, apiKey: null, verdict: null,
  flash: null, queueCount: 0, position: null, positionOn: true, positionWatch: null, backend: "", syncing: false, retry: 0,
};
let scanner = null;

// --- small helpers ---------------------------------------------------------------------------

// Every text that comes from data (a holder's name, an organisation, a site, a server's answer)
// goes through esc() before it is put into innerHTML: a name like <img src=x onerror=...> is text.
function esc(text) {
  return String(text ?? "").replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);
}

function $(sel) {
  return document.querySelector(sel);
}

function online() {
  return navigator.onLine;
}

function reasonText(code) {
  const m = S.messages[code];
  return m ? m[getLang()] || m.zh : code;
}

function ageText(seconds) {
  if (!Number.isFinite(seconds)) return "—";
  if (seconds < 90) return w("justNow");
  const sep = getLang() === "en" ? " " : "";
  if (seconds < 5400) return `${Math.round(seconds / 60)}${sep}${w("minutes")}${sep}${w("ago")}`;
  if (seconds < 172800) return `${Math.round(seconds / 3600)}${sep}${w("hours")}${sep}${w("ago")}`;
  return `${Math.round(seconds / 86400)}${sep}${w("days")}${sep}${w("ago")}`;
}

function currentSite() {
  return S.sites.find((s) => s.id === S.siteId) || null;
}

function maxAgeHours() {
  const site = currentSite();
  const ages = CONFIG.maxAgeHours || { normal: 24, high: 8 };
  return site && site.risk_class === "high" ? ages.high : ages.normal;
}

function stale() {
  return listsAgeSeconds(S.lists) > maxAgeHours() * 3600;
}

function styleOf(v) {
  if (OK.has(v.result)) return v.stale ? "warn" : "ok";
  return WARN.has(v.result) ? "warn" : "bad";
}

function flash(text, kind = "info") {
  S.flash = { text, kind };
  render();
  setTimeout(() => {
    if (S.flash && S.flash.text === text) {
      S.flash = null;
      render();
    }
  }, 4000);
}

async function api(path, { method = "GET", body, key = S.apiKey } = {}) {
  const headers = { Accept: "application/json", "Accept-Language": getLang() === "en" ? "en" : "zh" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (key) headers.Authorization = `Bearer ${key}`;
  return fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), cache: "no-store" });
}

// --- loading and refreshing ------------------------------------------------------------------

async function refreshAll() {
  if (!online()) return;
  try {
    S.lists = await refreshLists();
  } catch (err) {
    if (err instanceof ListError && err.message === "pin_mismatch") flash(w("pinMismatch"), "bad");
    else if (navigator.onLine) flash(w("refreshFailed") + err.message, "bad");
  }
  try {
    const m = await (await fetch("/api/v1/verdict-messages")).json();
    S.messages = m.messages;
    await setKv("messages", m.messages);
    const roles = await (await fetch("/api/v1/roles")).json();
    S.roles = roles.items;
    await setKv("roles", roles.items);
  } catch {
    /* offline: the copies held stay */
  }
  await refreshSites();
  render();
}

async function refreshSites() {
  if (!S.apiKey || !online()) return;
  const q = new URLSearchParams();
  if (S.position) {
    q.set("latitude", S.position.latitude.toFixed(5));
    q.set("longitude", S.position.longitude.toFixed(5));
  }
  q.set("limit", "500");
  const sites = [];
  let cursor = null;
  for (let page = 0; page < 20; page++) {
    if (cursor) q.set("cursor", cursor);
    const r = await api(`/api/v1/inspect/sites?${q}`).catch(() => null);
    if (!r || !r.ok) return;
    const out = await r.json();
    sites.push(...out.items);
    cursor = out.next_cursor;
    if (!cursor) break;
  }
  S.sites = sites;
  await setKv("sites", sites);
}

async function sync() {
  if (S.syncing || !online() || !S.apiKey) return;
  S.syncing = true;
  try {
    const scans = await uploadScans();
    await uploadInspections();
    S.retry = 0;
    if (scans.sent) flash(`${w("uploaded")}: ${scans.sent}`, "ok");
  } catch (err) {
    if (err instanceof AuthError) {
      flash(w("keyRejected"), "bad");
    } else {
      // Back off: 5 s, 15 s, 45 s … up to 10 minutes, until an 'online' event comes first.
      S.retry = Math.min(S.retry + 1, 6);
      setTimeout(sync, Math.min(5000 * 3 ** (S.retry - 1), 600000));
    }
  } finally {
    S.syncing = false;
    await countQueue();
    render();
  }
}

async function countQueue() {
  S.queueCount = (await scansIn("queued")).length
    + (await allInspections()).filter((r) => r.state === "queued" || r.state === "waiting_endpoint").length;
}

function startPosition() {
  if (!S.positionOn || !navigator.geolocation || S.positionWatch != null) return;
  S.positionWatch = navigator.geolocation.watchPosition(
    (p) => { S.position = { latitude: p.coords.latitude, longitude: p.coords.longitude }; },
    () => {},
    { enableHighAccuracy: false, maximumAge: 60000, timeout: 20000 },
  );
}

// --- verifying ---------------------------------------------------------------------------------

function offlineCertificate(claims) {
  const key = [...S.lists.trust.keys.values()].find((k) => k.organizationId === claims.issuerId);
  const code = S.lists.trust.categories.get(claims.categoryCode);
  const names = new Map((S.rawCategories || []).map((c) => [c.code, c.name]));
  return {
    serial: serialText(claims.serial), holder_name: maskName(claims.holderName), holder_id_masked: claims.holderIdMasked,
    category: code, category_name: names.get(code) || code, issuer: { name: key ? key.organizationName : claims.issuerId },
    valid_until: epochEndToDate(claims.expiresAt), review_due: epochEndToDate(claims.reviewDueAt),
    review_required: reviewRequired(S.lists.trust, claims.categoryCode, claims.reviewDueAt),
  };
}

async function verifyText(text) {
  const now = Math.floor(Date.now() / 1000);
  const scan = {
    client_ref: newRef(), qr_text: text, site_id: S.siteId, latitude: S.position?.latitude ?? null,
    longitude: S.position?.longitude ?? null, scanned_at: new Date().toISOString(), state: "queued",
  };
  let v;
  if (S.lists) {
    const off = await verifyOffline(text, S.lists.trust, S.lists.status, now);
    v = { source: "offline", result: off.result, reasons: off.reasons, cert: off.claims ? offlineCertificate(off.claims) : null };
    scan.offline_result = off.result;
  } else {
    v = { source: "none", result: null, reasons: [], cert: null };
  }
  v.stale = v.source === "offline" && stale();
  v.client_ref = scan.client_ref;
  v.qr_text = text;
  S.verdict = v;
  S.view = "verdict";
  render();
  if (online()) {
    try {
      const body = { qr_text: text };
      if (S.siteId) body.site_id = S.siteId;
      if (S.position) Object.assign(body, S.position);
      const r = await api("/api/v1/verify", { method: "POST", body });
      if (r.ok) {
        const out = await r.json();
        Object.assign(v, {
          source: "online", result: out.result, reasons: out.reasons.map((x) => x.code), stale: false,
          cert: out.certificate ? { ...out.certificate, holder_name: maskName(out.certificate.holder_name) } : v.cert,
        });
        if (out.scan_id) Object.assign(scan, { state: "online", scan_id: out.scan_id, server_result: out.result });
      }
    } catch {
      /* the network went away between the check and the request: the scan waits in the queue */
    }
  }
  scan.result_shown = v.result;
  scan.certificate = v.cert ? { serial: v.cert.serial, holder_name: v.cert.holder_name } : null;
  await putScan(scan);
  await countQueue();
  if (S.verdict === v) render();
  if (scan.state === "queued") sync();
}

async function lookUpSerial(input) {
  const raw = parseSerial(input);
  if (raw === null) {
    flash(w("serialBad"), "bad");
    return;
  }
  const serial = serialText(raw);
  if (online() && S.apiKey) {
    const r = await api(`/api/v1/certificates/${serial}`).catch(() => null);
    if (r && r.ok) {
      await verifyText((await r.json()).qr_text);
      return;
    }
    if (r && r.status === 404) {
      flash(w("serialNotFound"), "bad");
      return;
    }
  }
  // Offline (or not signed in): only the lists held can say anything about a bare serial.
  const hex = toHex(raw);
  let note = w("serialClear");
  if (S.lists && S.lists.status.revoked.has(hex)) note = w("serialRevoked");
  else if (S.lists && S.lists.status.suspended.has(hex)) note = w("serialSuspended");
  const prefix = online() && !S.apiKey ? `${w("serialNeedKey")}. ` : w("serialOffline");
  S.verdict = { source: "serial", serial, note: prefix + note, listed: note !== w("serialClear") };
  S.view = "verdict";
  render();
}

// --- the inspection record ---------------------------------------------------------------------

async function draft() {
  let d = await getKv("draft");
  if (!d) {
    d = { id: newRef(), started_at: new Date().toISOString(), site_id: S.siteId, officers: await getKv("officers", []), checks: [] };
    await setKv("draft", d);
  }
  return d;
}

async function addCheck(check) {
  const d = await draft();
  d.checks.push({ ...check, at: new Date().toISOString() });
  d.site_id = S.siteId || d.site_id;
  await setKv("draft", d);
  flash(w("added"), "ok");
}

async function submitDraft() {
  const d = await draft();
  d.site_id = S.siteId || d.site_id;
  if (!d.site_id) {
    flash(w("needSite"), "bad");
    return;
  }
  if (!d.checks.length) return;
  await putInspection({ ...d, state: "queued" });
  await delKv("draft");
  flash(S.apiKey ? w("recordQueued") : w("needKey"), "info");
  await countQueue();
  await sync();
}

function parseOfficers(text) {
  return text.split("\n").map((line) => line.trim()).filter(Boolean).map((line) => {
    const parts = line.split(/\s+/);
    return parts.length > 1 ? { name: parts.slice(0, -1).join(" "), badge: parts[parts.length - 1] } : { name: line };
  });
}

// --- screens -----------------------------------------------------------------------------------

function statusBar() {
  const age = listsAgeSeconds(S.lists);
  const isStale = S.lists && stale();
  const site = currentSite();
  const lists = S.lists
    ? `<span class="chip ${isStale ? "chip-warn" : "chip-ok"}" data-testid="lists-age">${isStale ? `⚠ ${w("listsStale")} · ` : ""}${w("listsAge")} ${esc(ageText(age))}</span>`
    : `<span class="chip chip-warn" data-testid="lists-age">${w("listsNone")}</span>`;
  const siteChip = `<span class="chip">${esc(site ? site.name : w("noSite"))}${site && site.risk_class === "high" ? ` · ${w("riskHigh")}` : ""}</span>`;
  const q = S.queueCount ? `<span class="chip chip-info" data-testid="queue-count">${S.queueCount} ${w("pending")}</span>` : "";
  return `${lists}${siteChip}${q}`;
}

function siteSelect() {
  const opts = [`<option value="">${w("noSite")}</option>`].concat(S.sites.map((s) =>
    `<option value="${esc(s.id)}" ${s.id === S.siteId ? "selected" : ""}>${esc(s.name)}${s.risk_class === "high" ? ` (${w("riskHigh")})` : ""}</option>`));
  return `<label class="field"><span>${w("site")}</span><select id="site" class="big-input">${opts.join("")}</select></label>`;
}

function homeView() {
  return `
  <section class="panel">
    ${siteSelect()}
    <button class="btn btn-primary btn-huge" id="camera-btn" data-testid="scan-camera">${ICON_CAMERA} ${w("scanCamera")}</button>
    <div id="camera" class="camera" hidden>
      <video id="video" muted playsinline></video><div class="frame"></div>
      <p class="hint">${w("cameraHint")}</p>
      <button class="btn" id="camera-stop">${w("stopCamera")}</button>
    </div>
  </section>
  <section class="panel">
    <label class="field"><span>${w("serialLabel")}</span>
      <input id="serial" class="big-input" autocomplete="off" autocapitalize="characters" spellcheck="false" placeholder="${w("serialPlaceholder")}"></label>
    <button class="btn" id="serial-btn">${w("lookUp")}</button>
  </section>
  <section class="panel">
    <label class="field"><span>${w("pasteLabel")}</span>
      <textarea id="paste" class="big-input" rows="3" spellcheck="false" placeholder="${w("pastePlaceholder")}" data-testid="paste"></textarea></label>
    <button class="btn btn-primary" id="paste-btn" data-testid="paste-verify">${w("verify")}</button>
  </section>
  <section class="panel">
    <button class="btn btn-outline" id="nocard-btn">${ICON_PERSON} ${w("noCard")}</button>
  </section>`;
}

function roleSelect(id) {
  const opts = [`<option value="">${w("chooseTask")}</option>`].concat(S.roles.map((r) =>
    `<option value="${esc(r.code)}">${esc(getLang() === "en" ? r.name_en || r.name : r.name)}</option>`));
  return `<label class="field"><span>${w("taskSeen")}</span><select id="${id}" class="big-input">${opts.join("")}</select></label>`;
}

function verdictView() {
  const v = S.verdict;
  if (v.source === "serial") {
    return `<section class="verdict ${v.listed ? "bad" : "warn"}"><h1>${esc(v.serial)}</h1><p>${esc(v.note)}</p></section>
      <button class="btn btn-primary" id="next-btn">${w("next")}</button>`;
  }
  if (v.source === "none") {
    return `<section class="verdict warn"><h1>?</h1><p>${w("noLists")}</p></section>
      <button class="btn btn-primary" id="next-btn">${w("next")}</button>`;
  }
  const style = styleOf(v);
  const icon = style === "ok" ? "✔" : style === "warn" ? "!" : "✖";
  const tags = [`<span class="tag">${v.source === "online" ? w("onlineCheck") : w("offlineCheck")}</span>`];
  if (v.stale) tags.push(`<span class="tag tag-stale">⚠ ${w("listsStale")}</span>`);
  const staleBox = v.stale
    ? `<p class="stale-box" data-testid="stale-warning">${esc(w("listsStaleLong", { h: maxAgeHours() }))}</p>` : "";
  const c = v.cert;
  const certCard = c ? `
    <section class="card">
      <h2>${w("compare")}</h2>
      <div class="compare">
        <div><span>${w("name")}</span><b data-testid="holder-name">${esc(c.holder_name)}</b></div>
        <div><span>${w("idNumber")}</span><b class="mono" data-testid="holder-id">${esc(c.holder_id_masked)}</b></div>
      </div>
      <dl class="fields">
        <dt>${w("category")}</dt><dd>${esc(c.category_name)}</dd>
        <dt>${w("issuer")}</dt><dd>${esc(c.issuer?.name)}</dd>
        <dt>${w("serial")}</dt><dd class="mono">${esc(c.serial)}</dd>
        <dt>${w("validUntil")}</dt><dd>${esc(c.valid_until)}</dd>
        <dt>${w("reviewDue")}</dt><dd data-testid="review-due">${c.review_required === false ? w("noReview") : esc(c.review_due)}</dd>
      </dl>
    </section>
    <section class="card">
      <h2>${w("holderQuestion")}</h2>
      <div class="pair">
        <button class="btn btn-ok ${v.holder === true ? "chosen" : ""}" id="match-btn" data-testid="holder-match">✔ ${w("match")}</button>
        <button class="btn btn-bad ${v.holder === false ? "chosen" : ""}" id="mismatch-btn" data-testid="holder-mismatch">✖ ${w("mismatch")}</button>
      </div>
      ${roleSelect("task")}
      <button class="btn" id="add-check-btn">${w("addToRecord")}</button>
    </section>` : "";
  return `
  <section class="verdict ${style}" role="status" aria-live="polite" data-testid="verdict" data-result="${esc(v.result)}" data-source="${esc(v.source)}">
    <span class="icon" aria-hidden="true">${icon}</span>
    <h1 data-testid="verdict-title">${esc(pick(RESULT_TITLES[v.result]))}</h1>
    <p>${esc(v.stale && v.result === "valid" ? w("staleValidLead") : pick(RESULT_LEADS[v.result]))}</p>
    <div class="tags">${tags.join("")}</div>
  </section>
  ${staleBox}
  ${certCard}
  <section class="card">
    <h2>${w("why")}</h2>
    <ul class="reasons" data-testid="reasons">${v.reasons.map((r) => `<li data-code="${esc(r)}">${esc(reasonText(r))}</li>`).join("")}</ul>
  </section>
  <button class="btn btn-primary btn-huge" id="next-btn">${w("next")}</button>`;
}

function nocardView() {
  return `
  <section class="panel">
    <h2 class="title">${w("noCard")}</h2>
    <p class="hint">${w("nocardHint")}</p>
    <label class="field"><span>${w("idLabel")}</span>
      <input id="idnum" class="big-input mono" inputmode="text" autocomplete="off" maxlength="22" spellcheck="false" data-testid="id-number"></label>
    <p id="id-state" class="hint" aria-live="polite"></p>
    ${roleSelect("nocard-task")}
    <button class="btn btn-primary" id="nocard-add" data-testid="nocard-add">${w("addToRecord")}</button>
    <button class="btn" id="back-btn">${w("back")}</button>
  </section>`;
}

function checkLine(c) {
  const role = S.roles.find((r) => r.code === c.task_role);
  const roleName = role ? (getLang() === "en" ? role.name_en || role.name : role.name) : c.task_role || "—";
  if (c.kind === "nocard") {
    return `<li><b>${w("noCardCheck")}</b> <span class="mono">${esc(c.id_masked)}</span> · ${esc(roleName)}</li>`;
  }
  const holder = c.holder_matches === true ? w("holderOk") : c.holder_matches === false ? w("holderBad") : w("holderUnknown");
  return `<li><b>${w("cardCheck")}</b> ${esc(c.holder_name || "")} <span class="mono">${esc(c.serial || "")}</span> · ${esc(pick(RESULT_TITLES[c.result]) || "")} · ${esc(holder)} · ${esc(roleName)}</li>`;
}

async function recordView() {
  const d = await draft();
  const site = S.sites.find((s) => s.id === (S.siteId || d.site_id));
  const past = (await allInspections()).slice(0, 10).map((r) => {
    const state = { synced: w("uploaded"), queued: w("waiting"), waiting_endpoint: w("recordWaiting"), rejected: w("rejected") }[r.state] || r.state;
    return `<li>${esc(new Date(r.started_at).toLocaleString())} · ${r.checks.length} · <span class="state-${esc(r.state)}">${esc(state)}</span></li>`;
  }).join("");
  return `
  <section class="panel">
    <h2 class="title">${w("recordTitle")}</h2>
    <dl class="fields">
      <dt>${w("site")}</dt><dd>${esc(site ? site.name : w("noSite"))}</dd>
      <dt>${w("startedAt")}</dt><dd>${esc(new Date(d.started_at).toLocaleString())}</dd>
    </dl>
    <label class="field"><span>${w("officers")}</span>
      <textarea id="officers" class="big-input" rows="2" placeholder="${w("officersHint")}">${esc((d.officers || []).map((o) => `${o.name} ${o.badge || ""}`.trim()).join("\n"))}</textarea></label>
    <h3>${w("checks")}</h3>
    ${d.checks.length ? `<ul class="checks">${d.checks.map(checkLine).join("")}</ul>` : `<p class="hint">${w("noChecks")}</p>`}
    <button class="btn btn-primary" id="submit-record" ${d.checks.length ? "" : "disabled"}>${w("submitRecord")}</button>
  </section>
  ${past ? `<section class="panel"><ul class="plain">${past}</ul></section>` : ""}`;
}

async function queueView() {
  const scans = (await allScans()).slice(0, 50);
  const pill = (result) => `<span class="pill pill-${esc(styleOf({ result }))}">${esc(pick(RESULT_TITLES[result]) || "—")}</span>`;
  const rows = scans.map((s) => {
    const state = { synced: w("uploaded"), online: w("onlineCheck"), queued: w("waiting"), rejected: w("rejected") }[s.state];
    const shown = s.offline_result || s.result_shown;
    const server = s.server_result ? ` → ${w("serverShort")} ${pill(s.server_result)}` : "";
    const changed = s.changed ? ` <span class="tag tag-stale">${w("changed")}</span>` : "";
    const offset = s.clock_offset_s !== undefined && s.clock_offset_s !== null
      ? `<div><small>${w("clockOffset")} ${esc(s.clock_offset_s)} ${w("seconds")}</small></div>` : "";
    const who = s.certificate ? `${esc(s.certificate.holder_name || "")} <span class="mono">${esc(s.certificate.serial || "")}</span>` : "";
    return `<li class="scan-row" data-testid="scan-row" data-state="${esc(s.state)}">
      <div class="row-head"><small>${esc(new Date(s.scanned_at).toLocaleString())}</small><span class="state state-${esc(s.state)}">${esc(state)}</span></div>
      <div>${who}</div>
      <div>${w("offline")} ${pill(shown)}${server}${changed}</div>${offset}</li>`;
  }).join("");
  return `
  <section class="panel">
    <button class="btn btn-primary" id="upload-btn" ${S.apiKey ? "" : "disabled"}>${w("uploadNow")}</button>
    ${S.apiKey ? "" : `<p class="hint">${w("needKey")}</p>`}
    ${rows ? `<ul class="plain">${rows}</ul>` : `<p class="hint">${w("queueEmpty")}</p>`}
  </section>`;
}

function settingsView() {
  const pin = S.lists?.pin;
  const ages = CONFIG.maxAgeHours || { normal: 24, high: 8 };
  return `
  <section class="panel">
    <h2 class="title">${w("signIn")} · <span class="${S.apiKey ? "ok-text" : "muted"}">${S.apiKey ? w("signedIn") : w("notSignedIn")}</span></h2>
    <p class="hint">${w("apiKeyHint")}</p>
    <label class="field"><span>${w("apiKey")}</span>
      <input id="apikey" class="big-input mono" type="password" autocomplete="off" spellcheck="false" value="" placeholder="${S.apiKey ? "••••••••" : "az_…"}" data-testid="api-key"></label>
    <div class="pair">
      <button class="btn btn-primary" id="key-save" data-testid="api-key-save">${w("save")}</button>
      <button class="btn" id="key-clear" ${S.apiKey ? "" : "disabled"}>${w("signOut")}</button>
    </div>
  </section>
  <section class="panel">
    <dl class="fields stack">
      <dt>${w("listsAge")}</dt><dd>${esc(ageText(listsAgeSeconds(S.lists)))}</dd>
      <dt>${w("maxAge")}</dt><dd>${ages.normal} ${w("hours")} (${w("riskNormal")}) · ${ages.high} ${w("hours")} (${w("riskHigh")})</dd>
      <dt>${w("regulatorKey")}</dt><dd class="mono small">${esc(pin ? `${pin.name || ""} ${pin.kid || ""}` : "—")}</dd>
      <dt>${w("cryptoBackend")}</dt><dd>${esc(S.backend === "webcrypto" ? "WebCrypto" : "@noble/curves")}</dd>
    </dl>
    <div class="pair">
      <button class="btn btn-primary" id="refresh-btn" data-testid="refresh-lists">${w("refreshLists")}</button>
      <button class="btn" id="repin-btn">${w("resetPin")}</button>
    </div>
  </section>
  <section class="panel">
    <label class="check"><input type="checkbox" id="pos" ${S.positionOn ? "checked" : ""}> ${w("position")}</label>
    <p class="hint">${w("positionHint")}</p>
  </section>`;
}

async function render() {
  document.title = w("app");
  $("#app-title").textContent = w("app");
  const net = $("#net");
  net.textContent = online() ? w("online") : w("offline");
  net.className = `net ${online() ? "net-on" : "net-off"}`;
  $("#lang-btn").textContent = getLang() === "en" ? "中文" : "English";
  $("#status").innerHTML = statusBar();
  const flashEl = $("#flash");
  flashEl.hidden = !S.flash;
  if (S.flash) {
    flashEl.textContent = S.flash.text;
    flashEl.className = `flash flash-${S.flash.kind}`;
  }
  const view = S.view;
  let html;
  if (view === "home") html = homeView();
  else if (view === "verdict") html = verdictView();
  else if (view === "nocard") html = nocardView();
  else if (view === "record") html = await recordView();
  else if (view === "queue") html = await queueView();
  else html = settingsView();
  if (S.view !== view) return; // a newer render took over while this one waited
  const main = $("#view");
  const keep = view === "home" ? { serial: $("#serial")?.value, paste: $("#paste")?.value } : null;
  if (view === "home" && scanner && scanner.stream) return; // leave the camera running undisturbed
  main.innerHTML = html;
  if (keep) {
    if (keep.serial) $("#serial").value = keep.serial;
    if (keep.paste) $("#paste").value = keep.paste;
  }
  document.querySelectorAll(".tabs button").forEach((b) => {
    const tab = b.dataset.view;
    b.classList.toggle("active", tab === view || (tab === "home" && (view === "verdict" || view === "nocard")));
    b.querySelector(".label").textContent = w(tab === "home" ? "scan" : tab);
    b.querySelector(".badge").textContent = tab === "queue" && S.queueCount ? S.queueCount : "";
  });
  bind(view);
}

function go(view) {
  if (scanner) scanner.stop();
  S.view = view;
  window.scrollTo(0, 0);
  render();
}

function on(sel, event, fn) {
  const el = $(sel);
  if (el) el.addEventListener(event, fn);
}

function bind(view) {
  if (view === "home") {
    on("#site", "change", async (e) => {
      S.siteId = e.target.value || null;
      await setKv("siteId", S.siteId);
      render();
    });
    on("#camera-btn", "click", async () => {
      $("#camera").hidden = false;
      $("#camera-btn").hidden = true;
      scanner = new Scanner($("#video"), (text) => { scanner = null; verifyText(text); });
      try {
        await scanner.start();
      } catch (err) {
        scanner = null;
        $("#camera").hidden = true;
        $("#camera-btn").hidden = false;
        flash(w("cameraFailed") + (err.message || err.name), "bad");
      }
    });
    on("#camera-stop", "click", () => {
      if (scanner) scanner.stop();
      scanner = null;
      render();
    });
    on("#serial-btn", "click", () => lookUpSerial($("#serial").value));
    on("#paste-btn", "click", () => {
      const text = $("#paste").value;
      $("#paste").value = "";
      verifyText(text);
    });
    on("#nocard-btn", "click", () => go("nocard"));
  } else if (view === "verdict") {
    on("#next-btn", "click", () => go("home"));
    on("#match-btn", "click", () => { S.verdict.holder = true; render(); });
    on("#mismatch-btn", "click", () => { S.verdict.holder = false; render(); });
    on("#add-check-btn", "click", async () => {
      const v = S.verdict;
      if (!$("#task").value) {
        flash(w("needTask"), "bad");
        return;
      }
      await addCheck({
        kind: "card", qr_text: v.qr_text, task_role: $("#task").value || null, holder_matches: v.holder ?? null,
        result: v.result, serial: v.cert?.serial, holder_name: v.cert?.holder_name, client_ref: v.client_ref,
      });
    });
  } else if (view === "nocard") {
    on("#idnum", "input", (e) => {
      const id = normalizeId(e.target.value);
      const state = $("#id-state");
      state.textContent = id.length < 18 ? "" : checkIdNumber(id) ? `✔ ${w("idValid")}` : `✖ ${w("idInvalid")}`;
      state.className = `hint ${id.length >= 18 && !checkIdNumber(id) ? "bad-text" : "ok-text"}`;
    });
    on("#nocard-add", "click", async () => {
      const id = normalizeId($("#idnum").value);
      if (!checkIdNumber(id)) {
        flash(w("idInvalid"), "bad");
        return;
      }
      if (!$("#nocard-task").value) {
        flash(w("needTask"), "bad");
        return;
      }
      await addCheck({ kind: "nocard", id_number: id, id_masked: maskId(id), task_role: $("#nocard-task").value || null });
      go("record");
    });
    on("#back-btn", "click", () => go("home"));
  } else if (view === "record") {
    on("#officers", "change", async (e) => {
      const officers = parseOfficers(e.target.value);
      await setKv("officers", officers);
      const d = await draft();
      d.officers = officers;
      await setKv("draft", d);
    });
    on("#submit-record", "click", submitDraft);
  } else if (view === "queue") {
    on("#upload-btn", "click", sync);
  } else if (view === "settings") {
    on("#key-save", "click", async () => {
      const key = $("#apikey").value.trim();
      if (!key) return;
      S.apiKey = key;
      await setKv("apiKey", key);
      flash(w("signedIn"), "ok");
      await refreshSites();
      sync();
    });
    on("#key-clear", "click", async () => {
      S.apiKey = null;
      await delKv("apiKey");
      render();
    });
    on("#refresh-btn", "click", async () => {
      await refreshAll();
      flash(w("refreshed"), "ok");
    });
    on("#repin-btn", "click", async () => {
      if (!window.confirm(w("resetPinConfirm"))) return;
      await resetPin();
      S.lists = null;
      await refreshAll();
    });
    on("#pos", "change", async (e) => {
      S.positionOn = e.target.checked;
      await setKv("positionOn", S.positionOn);
      if (S.positionOn) {
        startPosition();
      } else if (S.positionWatch != null) {
        // Off means off now: no position on the next scan, not only after the next start.
        navigator.geolocation.clearWatch(S.positionWatch);
        S.positionWatch = null;
        S.position = null;
      }
    });
  }
}

// --- start ---------------------------------------------------------------------------------------

async function start() {
  const asked = new URLSearchParams(location.search).get("lang");
  setLang(asked || localStorage.getItem("inspect-lang") || CONFIG.lang || "zh");
  document.querySelectorAll(".tabs button").forEach((b) => b.addEventListener("click", () => go(b.dataset.view)));
  $("#lang-btn").addEventListener("click", () => {
    setLang(getLang() === "en" ? "zh" : "en");
    localStorage.setItem("inspect-lang", getLang());
    render();
  });
  window.addEventListener("online", () => { refreshAll(); sync(); });
  window.addEventListener("offline", () => render());
  S.apiKey = await getKv("apiKey");
  S.messages = await getKv("messages", {});
  S.roles = await getKv("roles", []);
  S.sites = await getKv("sites", []);
  S.siteId = await getKv("siteId");
  S.positionOn = await getKv("positionOn", true);
  S.lists = await loadLists();
  S.rawCategories = (await getKv("lists"))?.trust?.categories || [];
  S.backend = await ed25519Backend();
  await countQueue();
  render();
  if (navigator.permissions && S.positionOn) {
    navigator.permissions.query({ name: "geolocation" }).then((p) => { if (p.state === "granted") startPosition(); }).catch(() => {});
  }
  await refreshAll();
  S.rawCategories = (await getKv("lists"))?.trust?.categories || [];
  sync();
  setInterval(() => { if (online()) { refreshAll(); sync(); } }, 10 * 60 * 1000);
  setInterval(() => { $("#status").innerHTML = statusBar(); }, 60 * 1000); // the lists' age moves on
  if ("serviceWorker" in navigator) {
    navigator.serviceWorker.register(`${CONFIG.base}/sw.js`, { scope: CONFIG.base }).catch(() => {});
  }
  document.body.dataset.ready = "1";
}

start();
