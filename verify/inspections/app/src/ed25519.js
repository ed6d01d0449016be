// Ed25519 signature checks: the browser's WebCrypto when it has Ed25519, else @noble/curves.
//
// In-app browsers (WeChat's among them) and older phones lack Ed25519 in WebCrypto, and a page
// served over plain http has no crypto.subtle at all; the pure-JavaScript fallback runs there,
// with RFC 8032's strict rules (zip215: false) as libsodium, the server's verifier, applies them.
// Holds public keys only.

import { ed25519 } from "@noble/curves/ed25519.js";
import { sha256 as nobleSha256 } from "@noble/hashes/sha2.js";

// RFC 8032 §7.1 test 1 public key: a known-good key to ask WebCrypto whether it has Ed25519.
const PROBE_KEY = Uint8Array.from(
  "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a".match(/../g).map((h) => parseInt(h, 16)),
);

let backend = null; // "webcrypto" | "noble", decided once
const imported = new Map();

export function sha256(bytes) {
  return nobleSha256(bytes);
}

function subtle() {
  return globalThis.crypto && globalThis.crypto.subtle ? globalThis.crypto.subtle : null;
}

async function probe() {
  const s = subtle();
  if (!s) return "noble";
  try {
    await s.importKey("raw", PROBE_KEY, { name: "Ed25519" }, false, ["verify"]);
    return "webcrypto";
  } catch {
    return "noble";
  }
}

// Which implementation checks signatures here; `force` is for tests and for a user's choice.
export async function ed25519Backend(force) {
  if (force) {
    backend = force;
    imported.clear();
  }
  if (backend === null) backend = await probe();
  return backend;
}

async function cryptoKey(publicKey) {
  const hex = Array.from(publicKey, (b) => b.toString(16).padStart(2, "0")).join("");
  if (!imported.has(hex)) {
    let key = null;
    try {
      key = await subtle().importKey("raw", publicKey, { name: "Ed25519" }, false, ["verify"]);
    } catch {
      key = null; // not a point on the curve: every signature under it fails, as in libsodium
    }
    imported.set(hex, key);
  }
  return imported.get(hex);
}

// Whether `signature` is a valid Ed25519 signature of `message` by `publicKey` (raw 32 bytes).
export async function verifyEd25519(publicKey, message, signature) {
  if (publicKey.length !== 32 || signature.length !== 64) return false;
  if ((await ed25519Backend()) === "webcrypto") {
    const key = await cryptoKey(publicKey);
    if (key === null) return false;
    try {
      return await subtle().verify({ name: "Ed25519" }, key, signature, message);
    } catch {
      return false;
    }
  }
  try {
    return ed25519.verify(signature, message, publicKey, { zip215: false });
  } catch {
    return false;
  }
}
