// Builds the scanner into verify/inspections/static/inspect/ (served by verify/inspections/views.py):
// app.js (esbuild bundle of src/app.js with its npm dependencies), app.css, sw.js with the
// asset list and a content version, and build.json that the shell reads.
import { build } from "esbuild";
import { createHash } from "node:crypto";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const out = join(here, "..", "static", "inspect");
rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });

const result = await build({
  entryPoints: [join(here, "src", "app.js")],
  bundle: true,
  format: "esm",
  target: "es2020", // BigInt and optional chaining: WeChat's and older phones' browsers have them
  minify: true,
  sourcemap: false,
  legalComments: "eof", // the dependencies' licence notices travel with the bundle
  outfile: join(out, "app.js"),
  write: false,
  logLevel: "warning",
});
const js = result.outputFiles.find((f) => f.path.endsWith(".js")).contents;
const css = readFileSync(join(here, "src", "app.css"));
const version = createHash("sha256").update(js).update(css).digest("hex").slice(0, 12);
writeFileSync(join(out, "app.js"), js);
writeFileSync(join(out, "app.css"), css);
const assets = [`/inspect/assets/app.js?v=${version}`, `/inspect/assets/app.css?v=${version}`];
const sw = readFileSync(join(here, "sw.js"), "utf8")
  .replace("__VERSION__", version)
  .replace("__ASSETS__", JSON.stringify(assets));
writeFileSync(join(out, "sw.js"), sw);
writeFileSync(join(out, "build.json"), JSON.stringify({ version, js: assets[0], css: assets[1], bytes: js.length }));
console.log(`built verify/inspections/static/inspect (version ${version}, app.js ${js.length} bytes)`);
