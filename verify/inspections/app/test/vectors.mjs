// Runs the browser's verifier (src/verdict.js) over the vectors tests/verify/test_vectors.py
// writes, once per Ed25519 backend, and prints what it concluded as JSON on stdout.
// Usage: node test/vectors.mjs vectors.json
import { readFileSync } from "node:fs";
import { ed25519Backend } from "../src/ed25519.js";
import { b64urlDecode } from "../src/token.js";
import { checkToken, statusIndex, trustIndex, verifyDocumentSignature, verifyOffline } from "../src/verdict.js";

const vectors = JSON.parse(readFileSync(process.argv[2], "utf8"));
const out = {};
for (const backend of ["webcrypto", "noble"]) {
  await ed25519Backend(backend);
  const sets = [];
  for (const set of vectors.sets) {
    const trust = trustIndex(set.trust);
    const status = statusIndex(set.status);
    const cases = [];
    for (const c of set.cases) {
      const v = c.token_b64 !== undefined
        ? await checkToken(b64urlDecode(c.token_b64), trust, status, c.now ?? vectors.now)
        : await verifyOffline(c.text, trust, status, c.now ?? vectors.now);
      cases.push({ name: c.name, result: v.result, reasons: v.reasons,
                   serial: v.claims ? Buffer.from(v.claims.serial).toString("hex") : null });
    }
    sets.push({ name: set.name, cases });
  }
  const documents = [];
  for (const d of vectors.documents) {
    documents.push({ name: d.name, valid: await verifyDocumentSignature(d.doc, b64urlDecode(d.key)) });
  }
  const indexes = [];
  for (const d of vectors.indexes) {
    let ok = true;
    try {
      (d.kind === "trust" ? trustIndex : statusIndex)(d.doc);
    } catch {
      ok = false;
    }
    indexes.push({ name: d.name, ok });
  }
  out[backend] = { sets, documents, indexes };
}
process.stdout.write(JSON.stringify(out));
