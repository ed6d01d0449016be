// The certificate token codec (docs/token.md), mirroring certificates/token.py byte for byte.
//
// Pure: no DOM, no network, no clock, no key material beyond public bytes. It accepts exactly
// the layouts the Python decoder accepts and refuses everything else as MalformedToken; deciding
// trust is verdict.js's work. Runs unchanged in the browser and under node (the test vectors).

export const MAX_TOKEN_BYTES = 512;
export const MAX_TEXT_CHARS = 2048;
export const SERIAL_BYTES = 10;
export const MIN_BARE_CHARS = 86;

const CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
const CROCKFORD_VALUE = Object.fromEntries([...CROCKFORD].map((c, i) => [c, i]));
Object.assign(CROCKFORD_VALUE, { I: 1, L: 1, O: 0 });
// Python's str.isspace() set: what str.strip() and the Unicode \s of re remove.
const PY_SPACE = "\\t\\n\\x0b\\x0c\\r\\x1c-\\x1f \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000";
const SERIAL_IGNORED = new RegExp(`[${PY_SPACE}\\-\\u2010-\\u2015\\u2212]+`, "gu");
const STRIP = new RegExp(`^[${PY_SPACE}]+|[${PY_SPACE}]+$`, "gu");
const LSTRIP = new RegExp(`^[${PY_SPACE}]+`, "u");
const CST_OFFSET = 8 * 3600;

const HEAD = [0xd2, 0x84, 0x4d, 0xa2, 0x01, 0x27, 0x04, 0x48];
const SIG1_PREFIX = [0x84, 0x6a, ...new TextEncoder().encode("Signature1")];
const CERTIFICATE_KEY = [0x3a, 0x00, 0x01, 0x00, 0x00, 0xa4, 0x01];
const TOKEN_ALPHABET = /^[0-9A-Za-z_-]+$/;
// Python's _URL with re.ASCII: \s is [ \t\n\r\f\v] only.
const URL_FULL = /^[A-Za-z][A-Za-z0-9+.\-]*:\/\/[^/?#\t\n\r\f\v ]*(\/[^?#\t\n\r\f\v ]*)$/;
const URL_PREFIX = /^[A-Za-z][A-Za-z0-9+.\-]*:\/\/[^/?#\t\n\r\f\v ]*(\/[^?#\t\n\r\f\v ]*)/;
const UTF8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

export class MalformedToken extends Error {
  constructor(reason) {
    super(reason);
    this.reason = reason;
  }
}

// --- bytes ---------------------------------------------------------------------------------

export function toHex(bytes) {
  let out = "";
  for (const b of bytes) out += b.toString(16).padStart(2, "0");
  return out;
}

export function bytesEqual(a, b) {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function startsWith(bytes, prefix) {
  return bytes.length >= prefix.length && prefix.every((b, i) => bytes[i] === b);
}

// --- serials and dates -----------------------------------------------------------------------

export function serialText(raw) {
  if (raw.length !== SERIAL_BYTES) throw new Error("a serial is 10 bytes");
  let n = 0n;
  for (const b of raw) n = (n << 8n) | BigInt(b);
  let chars = "";
  for (let shift = 75n; shift >= 0n; shift -= 5n) chars += CROCKFORD[Number((n >> shift) & 31n)];
  return [0, 4, 8, 12].map((i) => chars.slice(i, i + 4)).join("-");
}

function codePoints(text) {
  return Array.from(text);
}

// Python's str.upper() for what a serial can hold; JS's toUpperCase follows the same Unicode
// full case mapping (ß becomes SS in both), so the 16-character count agrees.
export function parseSerial(text) {
  if (typeof text !== "string" || codePoints(text).length > 64) return null;
  const chars = codePoints(text.normalize("NFKC").replace(SERIAL_IGNORED, "").toUpperCase());
  if (chars.length !== 16) return null;
  let n = 0n;
  for (const c of chars) {
    const value = Object.prototype.hasOwnProperty.call(CROCKFORD_VALUE, c) ? CROCKFORD_VALUE[c] : undefined;
    if (value === undefined) return null;
    n = (n << 5n) | BigInt(value);
  }
  const out = new Uint8Array(SERIAL_BYTES);
  for (let i = SERIAL_BYTES - 1; i >= 0; i--) {
    out[i] = Number(n & 0xffn);
    n >>= 8n;
  }
  return out;
}

// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's days_from_civil), so
// that year 1 to 9999 behave as Python's date does, with no Date object's two-digit-year quirk.
export function daysFromCivil(y, m, d) {
  y -= m <= 2 ? 1 : 0;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5) + d - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

export function civilFromDays(z) {
  z += 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const d = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const m = mp + (mp < 10 ? 3 : -9);
  return [era * 400 + yoe + (m <= 2 ? 1 : 0), m, d];
}

export function validDate(y, m, d) {
  if (y < 1 || y > 9999 || m < 1 || m > 12 || d < 1) return false;
  const leap = (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
  const days = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][m - 1];
  return d <= days;
}

// Epoch seconds of 00:00 China Standard Time on the day after y-m-d.
export function dateToEpochEnd(y, m, d) {
  return (daysFromCivil(y, m, d) + 1) * 86400 - CST_OFFSET;
}

// The last day (YYYY-MM-DD) whose end is at or before ts: the printed valid-until date.
export function epochEndToDate(ts) {
  const [y, m, d] = civilFromDays(Math.floor((ts + CST_OFFSET) / 86400) - 1);
  return `${String(y).padStart(4, "0")}-${String(m).padStart(2, "0")}-${String(d).padStart(2, "0")}`;
}

// --- decoding ------------------------------------------------------------------------------

function at(p, i) {
  if (i >= p.length) throw new MalformedToken("truncated");
  return p[i];
}

function uintBE(p, start, width) {
  let v = 0n;
  for (let k = 0; k < width; k++) v = (v << 8n) | BigInt(at(p, start + k));
  return v;
}

const UINT_WIDTH = { 0x18: 1, 0x19: 2, 0x1a: 4, 0x1b: 8 };

function readUint(p, i) {
  const b = at(p, i);
  if (b < 0x18) return [b, i + 1];
  const width = UINT_WIDTH[b];
  if (width === undefined) throw new MalformedToken("bad_claims");
  const v = uintBE(p, i + 1, width);
  if (v < (width === 1 ? 24n : 1n << BigInt(4 * width))) throw new MalformedToken("bad_claims");
  return [Number(v), i + 1 + width];
}

function readText(p, i) {
  const b = at(p, i);
  let n;
  let j;
  if (b >= 0x61 && b < 0x78) {
    [n, j] = [b - 0x60, i + 1];
  } else if (b === 0x78 && at(p, i + 1) >= 24) {
    [n, j] = [p[i + 1], i + 2];
  } else if (b === 0x79 && at(p, i + 1) > 0) {
    [n, j] = [Number(uintBE(p, i + 1, 2)), i + 3];
  } else {
    throw new MalformedToken("bad_claims");
  }
  if (j + n > p.length) throw new MalformedToken("truncated");
  try {
    return [UTF8.decode(p.subarray(j, j + n)), j + n];
  } catch {
    throw new MalformedToken("bad_claims");
  }
}

function expect(p, i, byte) {
  if (at(p, i) !== byte) throw new MalformedToken("bad_claims");
}

export function parseClaims(p) {
  if (at(p, 0) !== 0xa5 || at(p, 1) !== 0x01) throw new MalformedToken("bad_claims");
  let [iss, i] = readText(p, 2);
  expect(p, i, 0x04);
  let exp;
  [exp, i] = readUint(p, i + 1);
  expect(p, i, 0x06);
  let iat;
  [iat, i] = readUint(p, i + 1);
  if (at(p, i) !== 0x07 || at(p, i + 1) !== 0x4a) throw new MalformedToken("bad_claims");
  const serial = p.slice(i + 2, i + 12);
  if (!bytesEqual(p.subarray(i + 12, i + 19), CERTIFICATE_KEY)) throw new MalformedToken("bad_claims");
  let category;
  [category, i] = readUint(p, i + 19);
  expect(p, i, 0x02);
  let name;
  [name, i] = readText(p, i + 1);
  expect(p, i, 0x03);
  let masked;
  [masked, i] = readText(p, i + 1);
  expect(p, i, 0x04);
  let review;
  [review, i] = readUint(p, i + 1);
  if (i !== p.length) throw new MalformedToken("trailing_bytes");
  return {
    serial, issuerId: iss, categoryCode: category, holderName: name, holderIdMasked: masked,
    issuedAt: iat, expiresAt: exp, reviewDueAt: review,
  };
}

function payloadBounds(token) {
  const b = at(token, 17);
  if (b >= 0x40 && b < 0x58) return [18, 18 + b - 0x40];
  if (b === 0x58 && at(token, 18) >= 24) return [19, 19 + token[18]];
  if (b === 0x59 && at(token, 18) > 0) return [20, 20 + Number(uintBE(token, 18, 2))];
  throw new MalformedToken("bad_payload");
}

// Parse a token strictly: one layout, as certificates/token.py's decode() accepts it.
export function decode(token) {
  if (!(token instanceof Uint8Array)) throw new MalformedToken("not_bytes");
  if (token.length > MAX_TOKEN_BYTES) throw new MalformedToken("too_large");
  if (!startsWith(token, HEAD)) {
    const cose = token.length >= 2 && token[0] === 0xd2 && token[1] === 0x84;
    throw new MalformedToken(cose ? "bad_protected_header" : "not_cose_sign1");
  }
  if (at(token, 16) !== 0xa0) throw new MalformedToken("unprotected_header_not_empty");
  const [start, end] = payloadBounds(token);
  if (token[end] !== 0x58 || token[end + 1] !== 0x40 || token.length !== end + 66) {
    throw new MalformedToken("bad_signature_field");
  }
  const payload = token.slice(start, end);
  const claims = parseClaims(payload);
  const sigStructure = new Uint8Array(SIG1_PREFIX.length + 14 + 1 + (end - 17));
  sigStructure.set(SIG1_PREFIX, 0);
  sigStructure.set(token.subarray(2, 16), SIG1_PREFIX.length);
  sigStructure[SIG1_PREFIX.length + 14] = 0x40;
  sigStructure.set(token.subarray(17, end), SIG1_PREFIX.length + 15);
  return {
    kid: token.slice(8, 16), protected: token.slice(3, 16), payload,
    signature: token.slice(end + 2), claims, sigStructure,
  };
}

// --- base64url and QR text -----------------------------------------------------------------

const B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
const B64_VALUE = Object.fromEntries([...B64].map((c, i) => [c, i]));

export function b64urlEncode(raw) {
  let out = "";
  for (let i = 0; i < raw.length; i += 3) {
    const n = (raw[i] << 16) | ((raw[i + 1] ?? 0) << 8) | (raw[i + 2] ?? 0);
    const chars = B64[(n >> 18) & 63] + B64[(n >> 12) & 63] + B64[(n >> 6) & 63] + B64[n & 63];
    out += chars.slice(0, Math.min(4, Math.ceil(((raw.length - i) * 8) / 6)));
  }
  return out;
}

// Unpadded base64url, strictly: one byte string has exactly one text form (as in token.py).
export function b64urlDecode(text) {
  if (typeof text !== "string" || (text && !TOKEN_ALPHABET.test(text))) throw new Error("not base64url");
  if (text.length % 4 === 1) throw new Error("not base64url");
  const out = new Uint8Array(Math.floor((text.length * 6) / 8));
  let acc = 0;
  let bits = 0;
  let k = 0;
  for (const c of text) {
    acc = (acc << 6) | B64_VALUE[c];
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[k++] = (acc >> bits) & 0xff;
    }
    acc &= (1 << bits) - 1;
  }
  if (b64urlEncode(out) !== text) throw new Error("not canonical base64url");
  return out;
}

function tokenFrom(chars) {
  let token;
  if (/^[0-9]+$/.test(chars)) {
    if (chars.length > 1234) return null;
    let n = BigInt(chars);
    const bytes = [];
    while (n > 0n) {
      bytes.unshift(Number(n & 0xffn));
      n >>= 8n;
    }
    token = Uint8Array.from(bytes);
  } else {
    try {
      token = b64urlDecode(chars);
    } catch {
      return null;
    }
  }
  return token.length > 0 && token.length <= MAX_TOKEN_BYTES ? token : null;
}

function looksOurs(prefix) {
  if (TOKEN_ALPHABET.test(prefix)) return true;
  const m = URL_PREFIX.exec(prefix);
  return m !== null && (m[1].includes("/V/") || m[1].includes("/v/"));
}

// [isOurs, token bytes | null] for a scanned text; never throws (token.py's extract_token).
export function extractToken(text) {
  if (typeof text !== "string") return [false, null];
  if (text.length > MAX_TEXT_CHARS) {
    const cps = codePoints(text);
    if (cps.length > MAX_TEXT_CHARS) {
      return [looksOurs(cps.slice(0, MAX_TEXT_CHARS).join("").replace(LSTRIP, "")), null];
    }
  }
  text = text.replace(STRIP, "");
  const m = URL_FULL.exec(text);
  if (m !== null) {
    const path = m[1];
    const cut = path.lastIndexOf("/");
    const head = path.slice(0, cut);
    const tail = path.slice(cut + 1);
    const segment = head.slice(head.lastIndexOf("/") + 1);
    if ((segment !== "V" && segment !== "v") || !TOKEN_ALPHABET.test(tail)) return [false, null];
    return [true, tokenFrom(tail)];
  }
  if (codePoints(text).length >= MIN_BARE_CHARS && TOKEN_ALPHABET.test(text)) return [true, tokenFrom(text)];
  return [false, null];
}
