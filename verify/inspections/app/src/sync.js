// Upload what was recorded offline, when the network is back: scans to POST /api/v1/scans (one
// batch, idempotent by client_ref, so a retry after a lost answer records nothing twice) and
// inspection records to POST /api/v1/inspections (idempotent by Idempotency-Key). The device's
// clock is sent as device_now at upload so the server can measure its offset.

import { maskName } from "./idcard.js";
import { allInspections, getKv, putInspection, putScan, scansIn } from "./store.js";

const BATCH = 500;

export class AuthError extends Error {}

async function post(path, body, key, extraHeaders = {}) {
  const r = await fetch(path, {
    method: "POST",
    headers: { "Content-Type": "application/json", Authorization: `Bearer ${key}`, ...extraHeaders },
    body: JSON.stringify(body),
    cache: "no-store",
  });
  if (r.status === 401 || r.status === 403) throw new AuthError(String(r.status));
  return r;
}

export async function uploadScans() {
  const key = await getKv("apiKey");
  if (!key) return { sent: 0, skipped: "no_key" };
  const queued = (await scansIn("queued")).sort((a, b) => (a.scanned_at < b.scanned_at ? -1 : 1));
  let sent = 0;
  for (let i = 0; i < queued.length; i += BATCH) {
    const batch = queued.slice(i, i + BATCH);
    const items = batch.map((s) => ({
      client_ref: s.client_ref, qr_text: s.qr_text, site_id: s.site_id || null, latitude: s.latitude ?? null,
      longitude: s.longitude ?? null, scanned_at: s.scanned_at, offline_result: s.offline_result || null,
      device_now: new Date().toISOString(),
    }));
    const r = await post("/api/v1/scans", { items }, key);
    if (!r.ok) throw new Error(`upload: HTTP ${r.status}`);
    const out = await r.json();
    for (const res of out.items) {
      const scan = batch[res.index];
      if (res.status === 200 || res.status === 201) {
        Object.assign(scan, {
          state: "synced", server_result: res.result, server_reasons: (res.reasons || []).map((x) => x.code),
          scan_id: res.id, clock_offset_s: res.clock_offset_s, changed: !!res.changed,
          // Shown masked on the device, as on the verdict screen.
          certificate: res.certificate
            ? { serial: res.certificate.serial, holder_name: maskName(res.certificate.holder_name) }
            : scan.certificate || null,
          synced_at: new Date().toISOString(),
        });
        sent += 1;
      } else {
        Object.assign(scan, { state: "rejected", errors: res.errors || [] });
      }
      await putScan(scan);
    }
  }
  return { sent };
}

function inspectionBody(rec) {
  return {
    site_id: rec.site_id, started_at: rec.started_at,
    officers: rec.officers,
    checks: rec.checks.map((c) => {
      const check = { task_role: c.task_role };
      if (c.qr_text) check.qr_text = c.qr_text;
      if (c.id_number) check.id_number = c.id_number;
      if (c.holder_matches !== undefined && c.holder_matches !== null) check.holder_matches = c.holder_matches;
      return check;
    }),
  };
}

export async function uploadInspections() {
  const key = await getKv("apiKey");
  if (!key) return { sent: 0, skipped: "no_key" };
  let sent = 0;
  for (const rec of await allInspections()) {
    if (rec.state !== "queued" && rec.state !== "waiting_endpoint") continue;
    const r = await post("/api/v1/inspections", inspectionBody(rec), key, { "Idempotency-Key": rec.id });
    if (r.status === 404 || r.status === 405) {
      rec.state = "waiting_endpoint"; // the server does not take records yet: kept, tried again later
    } else if (r.ok) {
      const out = await r.json();
      rec.state = "synced";
      rec.server = out;
      // The full identity numbers are not needed on the device once the server holds them.
      rec.checks = rec.checks.map((c) => ({ ...c, id_number: undefined }));
      sent += 1;
    } else {
      rec.state = "rejected";
      try {
        rec.errors = (await r.json()).errors || [];
      } catch {
        rec.errors = [];
      }
    }
    await putInspection(rec);
  }
  return { sent };
}
