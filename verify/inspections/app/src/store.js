// What the app keeps on the device, in IndexedDB (through idb): settings and the inspector's key,
// the signed lists as downloaded, the area's sites, scans waiting to upload and inspection records.

import { openDB } from "idb";

const DB_NAME = "anzheng-inspect";
let dbp = null;

function db() {
  if (dbp === null) {
    dbp = openDB(DB_NAME, 1, {
      upgrade(d) {
        d.createObjectStore("kv");
        const scans = d.createObjectStore("scans", { keyPath: "client_ref" });
        scans.createIndex("state", "state");
        d.createObjectStore("inspections", { keyPath: "id" });
      },
    });
  }
  return dbp;
}

export async function getKv(key, fallback = null) {
  const value = await (await db()).get("kv", key);
  return value === undefined ? fallback : value;
}

export async function setKv(key, value) {
  return (await db()).put("kv", value, key);
}

export async function delKv(key) {
  return (await db()).delete("kv", key);
}

export async function putScan(scan) {
  return (await db()).put("scans", scan);
}

export async function allScans() {
  const all = await (await db()).getAll("scans");
  return all.sort((a, b) => (a.scanned_at < b.scanned_at ? 1 : -1));
}

export async function scansIn(state) {
  return (await db()).getAllFromIndex("scans", "state", state);
}

export async function putInspection(record) {
  return (await db()).put("inspections", record);
}

export async function allInspections() {
  const all = await (await db()).getAll("inspections");
  return all.sort((a, b) => (a.started_at < b.started_at ? 1 : -1));
}

export function newRef() {
  if (globalThis.crypto && crypto.randomUUID) return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
}
