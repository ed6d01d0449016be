// RFC 8785 (JSON Canonicalization Scheme) for the regulator's signed lists.
//
// JCS is defined in terms of ECMAScript's own JSON serialisation of strings and numbers, so
// the only work left is ordering object members by their names' UTF-16 code units, which is
// what Array.prototype.sort does by default. Like the rfc8785 package the server signs with,
// it refuses numbers JSON cannot carry exactly (non-finite, or integers past 2^53).

export function canonicalize(value) {
  if (value === null || typeof value === "boolean" || typeof value === "string") return JSON.stringify(value);
  if (typeof value === "number") {
    if (!Number.isFinite(value)) throw new Error("non-finite number");
    if (Number.isInteger(value) && !Number.isSafeInteger(value)) throw new Error("integer out of range");
    return JSON.stringify(value);
  }
  if (Array.isArray(value)) return `[${value.map(canonicalize).join(",")}]`;
  if (typeof value === "object") {
    const names = Object.keys(value).sort();
    return `{${names.map((k) => `${JSON.stringify(k)}:${canonicalize(value[k])}`).join(",")}}`;
  }
  throw new Error(`cannot canonicalize a ${typeof value}`);
}

// The bytes a trust or status list's signature covers: the document without `signature`.
export function signedBytes(doc) {
  const rest = { ...doc };
  delete rest.signature;
  return new TextEncoder().encode(canonicalize(rest));
}
