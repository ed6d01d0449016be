// The signed trust list and status list on the device: downloaded, checked against the
// regulator's key pinned at the first download, indexed, and kept in IndexedDB with their age.
// A list that fails its signature is refused and the copy already held stays in use.

import { b64urlDecode } from "./token.js";
import { statusIndex, trustIndex, verifyDocumentSignature, instant } from "./verdict.js";
import { getKv, setKv, delKv } from "./store.js";

export class ListError extends Error {}

async function getJson(path) {
  const r = await fetch(path, { cache: "no-store", headers: { Accept: "application/json" } });
  if (!r.ok) throw new ListError(`${path}: HTTP ${r.status}`);
  return r.json();
}

async function checked(trust, status, pin) {
  const key = b64urlDecode(pin.x);
  if (!(await verifyDocumentSignature(trust, key)) || !(await verifyDocumentSignature(status, key))) {
    throw new ListError("pin_mismatch");
  }
  return { trust: trustIndex(trust), status: statusIndex(status) };
}

// The lists held on the device, checked again (a tampered IndexedDB is no better than the network).
export async function loadLists() {
  const pin = await getKv("pin");
  const held = await getKv("lists");
  if (!pin || !held) return null;
  try {
    return { ...(await checked(held.trust, held.status, pin)), fetchedAt: held.fetchedAt, pin };
  } catch {
    return null;
  }
}

// Download both lists; pin the regulator's key on first use (trust on first use, shown in settings).
export async function refreshLists() {
  const [trust, status] = await Promise.all([getJson("/api/v1/trust-list"), getJson("/api/v1/status-list")]);
  let pin = await getKv("pin");
  if (!pin) {
    const issuer = trust && trust.issuer;
    if (!issuer || typeof issuer.x !== "string") throw new ListError("no regulator key in the trust list");
    pin = { x: issuer.x, kid: issuer.kid, name: issuer.organization_name, pinnedAt: new Date().toISOString() };
    await checked(trust, status, pin); // self-consistent before it is pinned
    await setKv("pin", pin);
  }
  const indexes = await checked(trust, status, pin);
  // Never step back to older lists than those held (a replayed download).
  const held = await getKv("lists");
  if (held && instant(held.status.issued_at) > indexes.status.issuedAt) return loadLists();
  const fetchedAt = Date.now();
  await setKv("lists", { trust, status, fetchedAt });
  return { ...indexes, fetchedAt, pin };
}

export async function resetPin() {
  await delKv("pin");
  await delKv("lists");
}

// Seconds since the older of the two lists was issued, on this device's clock.
export function listsAgeSeconds(lists, nowMs = Date.now()) {
  if (!lists) return Infinity;
  return Math.max(0, nowMs / 1000 - Math.min(lists.trust.issuedAt, lists.status.issuedAt));
}
