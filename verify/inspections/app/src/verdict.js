// The offline verdict in the browser, mirroring verify/verdict.py: the same result codes, the
// same reason codes, in the same order, for every input (tests/verify/test_vectors.py holds the
// two to each other on a shared set of vectors).
//
// Pure: the caller hands in the scanned text, the indexed trust and status lists and the time;
// nothing here touches the DOM, the network, storage or a clock. A verdict is a value, never an
// exception. The one difference from Python is that signature checks are asynchronous.

import {
  b64urlDecode, bytesEqual, dateToEpochEnd, decode, extractToken, parseSerial, toHex, validDate,
  daysFromCivil, MalformedToken,
} from "./token.js";
import { sha256, verifyEd25519 } from "./ed25519.js";
import { signedBytes } from "./jcs.js";

export const RESULTS = ["valid", "not_ours", "forged", "revoked", "suspended", "issuer_not_accredited",
  "expired", "review_overdue"];
const AUTHENTIC = ["signature_valid", "offline_registry_not_checked"];
const KEY_STATUSES = ["active", "retired", "compromised"];
const RFC3339 = /^(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(\.\d{1,6})?(Z|([+-])(\d\d):(\d\d))$/;
const DAY = /^(\d{4})-(\d\d)-(\d\d)$/;
const NEVER = 2 ** 64; // a key without not_after: past the largest iat a token can carry
// A compromised key's tokens are pinned by the first 16 bytes of SHA-256 over the token's bytes
// (certificates/token.py's token_pin; docs/certificates.md).
const PIN_DIGEST = "sha256-128";
const PIN_BYTES = 16;
const REASONS = {
  valid: AUTHENTIC,
  revoked: ["certificate_revoked", ...AUTHENTIC],
  suspended: ["certificate_suspended", ...AUTHENTIC],
  issuer_not_accredited: ["issuer_not_accredited", ...AUTHENTIC],
  expired: ["certificate_expired", ...AUTHENTIC],
  review_overdue: ["review_overdue", ...AUTHENTIC],
};

function verdict(result, reasons, claims = null) {
  return { result, reasons: [...reasons], claims, offline: true };
}

export function kidFor(publicKeyRaw) {
  if (publicKeyRaw.length !== 32) throw new Error("an Ed25519 public key is 32 bytes");
  return sha256(publicKeyRaw).slice(0, 8);
}

// --- reading the documents (refuse anything verdict.py would refuse) -----------------------

function isObject(v) {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}

const KINDS = {
  list: Array.isArray,
  str: (v) => typeof v === "string",
  int: (v) => typeof v === "number" && Number.isInteger(v),
  strOrNull: (v) => v === null || typeof v === "string",
  object: isObject,
};

function get(obj, name, kind) {
  if (!isObject(obj) || !Object.prototype.hasOwnProperty.call(obj, name)) throw new Error(`missing ${name}`);
  const value = obj[name];
  if (!KINDS[kind](value)) throw new Error(`${name} has the wrong type`);
  return value;
}

function b64(obj, name, size) {
  const raw = b64urlDecode(get(obj, name, "str"));
  if (raw.length !== size) throw new Error(`${name} must be ${size} bytes`);
  return raw;
}

function serial(text) {
  const raw = parseSerial(text);
  if (raw === null) throw new Error(`not a serial: ${text}`);
  return toHex(raw);
}

// Epoch seconds of an RFC 3339 time, as int(datetime.fromisoformat(...).timestamp()) gives it.
export function instant(text) {
  const m = typeof text === "string" ? RFC3339.exec(text) : null;
  if (m === null) throw new Error(`not an RFC 3339 time: ${text}`);
  const [y, mo, d, h, mi, s] = m.slice(1, 7).map(Number);
  if (!validDate(y, mo, d) || h > 23 || mi > 59 || s > 59) throw new Error(`not an RFC 3339 time: ${text}`);
  let offset = 0;
  if (m[8] !== "Z") {
    const [oh, om] = [Number(m[10]), Number(m[11])];
    if (oh > 23 || om > 59) throw new Error(`not an RFC 3339 time: ${text}`);
    offset = (m[9] === "-" ? -1 : 1) * (oh * 3600 + om * 60);
  }
  const whole = daysFromCivil(y, mo, d) * 86400 + h * 3600 + mi * 60 + s - offset;
  const frac = m[7] ? Number(`0${m[7]}`) : 0;
  return Math.trunc(whole + frac);
}

function day(text) {
  const m = DAY.exec(text);
  if (m === null) throw new Error(`not a YYYY-MM-DD date: ${text}`);
  const [y, mo, d] = m.slice(1).map(Number);
  if (!validDate(y, mo, d)) throw new Error(`not a YYYY-MM-DD date: ${text}`);
  return [y, mo, d];
}

function keyEntry(raw, byCode) {
  if (get(raw, "alg", "str") !== "EdDSA" || get(raw, "crv", "str") !== "Ed25519") {
    throw new Error("trust list keys are Ed25519 only");
  }
  const kid = b64(raw, "kid", 8);
  const x = b64(raw, "x", 32);
  if (!bytesEqual(kidFor(x), kid)) throw new Error("kid is not the hash of its key");
  const status = get(raw, "status", "str");
  if (!KEY_STATUSES.includes(status)) throw new Error(`unknown key status ${status}`);
  const compromisedAt = get(raw, "compromised_at", "strOrNull");
  if (compromisedAt !== null) instant(compromisedAt);
  const notAfterText = get(raw, "not_after", "strOrNull");
  const accredited = new Map();
  for (const period of get(raw, "accreditations", "list")) {
    const tokenCode = byCode.get(get(period, "category", "str"));
    const start = dateToEpochEnd(...day(get(period, "valid_from", "str"))) - 86400;
    const end = dateToEpochEnd(...day(get(period, "valid_until", "str")));
    if (tokenCode === undefined || end <= start) throw new Error("accreditation of an unknown category or an empty period");
    accredited.set(tokenCode, [...(accredited.get(tokenCode) || []), [start, end]]);
  }
  const notBefore = instant(get(raw, "not_before", "str"));
  const notAfter = notAfterText === null ? NEVER : instant(notAfterText);
  if (notAfter < notBefore) throw new Error("a key's period ends before it starts");
  return {
    kid, x, organizationId: get(raw, "organization_id", "str"),
    organizationName: get(raw, "organization_name", "str"), notBefore, notAfter,
    compromised: status === "compromised", accredited,
  };
}

// A category's no_review spans ([[from, until or null], ...], inclusive China dates, in order,
// without overlap) as [start of the first day, end of the last] in epoch seconds (verdict.py's
// _no_review). Absent: always reviewed, as every category was on a trust list from before it.
function noReviewSpans(raw) {
  if (!Object.prototype.hasOwnProperty.call(raw, "no_review")) return [];
  const out = [];
  for (const span of get(raw, "no_review", "list")) {
    if (!Array.isArray(span) || span.length !== 2 || typeof span[0] !== "string"
        || !(span[1] === null || typeof span[1] === "string")) {
      throw new Error("a no_review span is [from, until or null]");
    }
    const after = dateToEpochEnd(...day(span[0])) - 86400;
    const until = span[1] === null ? NEVER : dateToEpochEnd(...day(span[1]));
    if (until <= after || (out.length && after < out[out.length - 1][1])) {
      throw new Error("no_review spans must be non-empty, in order, without overlap");
    }
    out.push([after, until]);
  }
  return out;
}

// Index a trust list whose signature the caller has already checked (verdict.py's TrustIndex).
export function trustIndex(doc) {
  const categories = new Map();
  const noReview = new Map(); // token_code -> [[after, until], ...]: no review due in (after, until]
  for (const raw of get(doc, "categories", "list")) {
    const tokenCode = get(raw, "token_code", "int");
    if (tokenCode < 0 || categories.has(tokenCode)) throw new Error(`bad or repeated token_code ${tokenCode}`);
    categories.set(tokenCode, get(raw, "code", "str"));
    get(raw, "name", "str");
    const spans = noReviewSpans(raw);
    if (spans.length) noReview.set(tokenCode, spans);
  }
  const byCode = new Map([...categories].map(([tokenCode, code]) => [code, tokenCode]));
  const keys = new Map();
  for (const raw of get(doc, "keys", "list")) {
    const entry = keyEntry(raw, byCode);
    const hex = toHex(entry.kid);
    if (keys.has(hex)) throw new Error("repeated kid");
    keys.set(hex, entry);
  }
  return { issuedAt: instant(get(doc, "issued_at", "str")), keys, categories, noReview };
}

function serialTimes(doc, name) {
  const out = new Map();
  for (const e of get(doc, name, "list")) out.set(serial(get(e, "serial", "str")), instant(get(e, "at", "str")));
  return out;
}

function compare(a, aAt, b, bAt) {
  for (let i = 0; i < PIN_BYTES; i += 1) {
    if (a[aAt + i] !== b[bAt + i]) return a[aAt + i] - b[bAt + i];
  }
  return 0;
}

// The packed, sorted pins of one compromised key (verdict.py's Pins), refused unless well formed.
function pins(raw) {
  if (get(raw, "digest", "str") !== PIN_DIGEST) throw new Error(`unknown pin digest ${raw.digest}`);
  const packed = b64urlDecode(get(raw, "digests", "str"));
  const count = packed.length / PIN_BYTES;
  if (!Number.isInteger(count) || count !== get(raw, "count", "int")) {
    throw new Error("pinned digests do not add up to their count");
  }
  for (let i = 1; i < count; i += 1) {
    if (compare(packed, (i - 1) * PIN_BYTES, packed, i * PIN_BYTES) >= 0) {
      throw new Error("pinned digests must be sorted, without repeats");
    }
  }
  return { packed, count };
}

function pinned(list, pin) {
  let lo = 0;
  let hi = list.count;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const order = compare(list.packed, mid * PIN_BYTES, pin, 0);
    if (order === 0) return true;
    if (order < 0) lo = mid + 1;
    else hi = mid;
  }
  return false;
}

// Index a status list whose signature the caller has already checked (verdict.py's StatusIndex).
export function statusIndex(doc) {
  const compromised = new Map();
  for (const raw of get(doc, "compromised_keys", "list")) {
    instant(get(raw, "compromised_at", "str"));
    const kidHex = toHex(b64(raw, "kid", 8));
    if (compromised.has(kidHex)) throw new Error("repeated compromised kid");
    const entry = get(raw, "pinned_tokens", "object");
    compromised.set(kidHex, pins(entry));
  }
  return {
    issuedAt: instant(get(doc, "issued_at", "str")), revoked: serialTimes(doc, "revoked"),
    suspended: serialTimes(doc, "suspended"), compromised,
  };
}

// Whether `doc` (a trust or status list) is signed by `publicKeyRaw`; false for anything odd.
export async function verifyDocumentSignature(doc, publicKeyRaw) {
  const sig = isObject(doc) ? doc.signature : undefined;
  if (!isObject(sig) || sig.alg !== "EdDSA") return false;
  try {
    if (!bytesEqual(b64urlDecode(sig.kid), kidFor(publicKeyRaw))) return false;
    return await verifyEd25519(publicKeyRaw, signedBytes(doc), b64urlDecode(sig.value));
  } catch {
    return false;
  }
}

// --- the verdict ---------------------------------------------------------------------------

// The verdict for a scanned text; `now` in epoch seconds.
export async function verifyOffline(text, trust, status, now) {
  const [ours, token] = extractToken(text);
  if (!ours) return verdict("not_ours", ["not_our_code"]);
  if (token === null) return verdict("forged", ["malformed_token"]);
  return checkToken(token, trust, status, now);
}

export async function checkToken(token, trust, status, now) {
  let decoded;
  try {
    decoded = decode(token);
  } catch (err) {
    if (err instanceof MalformedToken) return verdict("forged", ["malformed_token"]);
    throw err;
  }
  const kidHex = toHex(decoded.kid);
  const key = trust.keys.get(kidHex);
  if (key === undefined) return verdict("forged", ["unknown_key"]);
  if (!(await verifyEd25519(key.x, decoded.sigStructure, decoded.signature))) {
    return verdict("forged", ["bad_signature"]);
  }
  const claims = decoded.claims;
  const doubt = doubtOf(key, kidHex, claims, trust, status, token);
  if (doubt !== null) return verdict("forged", [doubt]);
  const result = standing(key, claims, trust, status, now);
  return verdict(result, REASONS[result], claims);
}

function doubtOf(key, kidHex, claims, trust, status, token) {
  // A thief can write any iat and any serial, so only the very tokens pinned as recorded before
  // the theft still count; only a token under a compromised key pays for the digest.
  const list = status.compromised.get(kidHex);
  if ((key.compromised || list !== undefined) && !(list && pinned(list, sha256(token).subarray(0, PIN_BYTES)))) {
    return "compromised_key";
  }
  if (!(key.notBefore <= claims.issuedAt && claims.issuedAt <= key.notAfter)) return "key_not_valid_at_signing";
  if (claims.issuerId !== key.organizationId) return "issuer_mismatch";
  if (!trust.categories.has(claims.categoryCode)) return "unknown_category";
  return null;
}

function standing(key, claims, trust, status, now) {
  const serialHex = toHex(claims.serial);
  if (status.revoked.has(serialHex)) return "revoked";
  if (status.suspended.has(serialHex)) return "suspended";
  if (!accredited(key, claims.categoryCode, claims.issuedAt)) return "issuer_not_accredited";
  if (now >= claims.expiresAt) return "expired";
  if (now >= claims.reviewDueAt && reviewRequired(trust, claims.categoryCode, claims.reviewDueAt)) {
    return "review_overdue";
  }
  return "valid";
}

// Does a review falling due at ``due`` (epoch seconds) still have to be made? (the trust list's no_review)
export function reviewRequired(trust, category, due) {
  return !(trust.noReview.get(category) || []).some(([after, until]) => after < due && due <= until);
}

function accredited(key, category, at) {
  return (key.accredited.get(category) || []).some(([start, end]) => start <= at && at < end);
}
