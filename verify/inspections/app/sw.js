// The scanner's service worker (scope /inspect): keeps the app shell, its assets and the verdict
// wording so the app opens and verifies with no network. The signed lists, sites and queued scans
// live in IndexedDB, not here. build.mjs fills in VERSION and ASSETS.

const VERSION = "__VERSION__";
const CACHE = `anzheng-inspect-${VERSION}`;
const SHELL = "/inspect";
const PRECACHE = [SHELL, ...__ASSETS__, "/inspect/manifest.webmanifest", "/inspect/icon-192.png",
  "/inspect/icon-512.png", "/api/v1/verdict-messages", "/api/v1/roles"];
const NETWORK_FIRST = ["/api/v1/verdict-messages", "/api/v1/roles", "/inspect/manifest.webmanifest"];

self.addEventListener("install", (event) => {
  event.waitUntil(caches.open(CACHE).then((c) => c.addAll(PRECACHE)).then(() => self.skipWaiting()));
});

self.addEventListener("activate", (event) => {
  event.waitUntil((async () => {
    for (const name of await caches.keys()) if (name.startsWith("anzheng-inspect-") && name !== CACHE) await caches.delete(name);
    await self.clients.claim();
  })());
});

async function networkFirst(request, cacheKey) {
  const cache = await caches.open(CACHE);
  try {
    const fresh = await fetch(request);
    if (fresh.ok) await cache.put(cacheKey, fresh.clone());
    return fresh;
  } catch (err) {
    const held = await cache.match(cacheKey, { ignoreSearch: true });
    if (held) return held;
    throw err;
  }
}

self.addEventListener("fetch", (event) => {
  const req = event.request;
  if (req.method !== "GET") return;
  const url = new URL(req.url);
  if (url.origin !== self.location.origin) return;
  if (req.mode === "navigate" && (url.pathname === SHELL || url.pathname === `${SHELL}/`)) {
    // The shell: fresh when the network answers, the held copy (any ?lang=) when it does not.
    event.respondWith(networkFirst(req, SHELL));
  } else if (NETWORK_FIRST.includes(url.pathname)) {
    event.respondWith(networkFirst(req, url.pathname));
  } else if (url.pathname.startsWith("/inspect/assets/") || url.pathname.startsWith("/inspect/icon-")) {
    event.respondWith(caches.match(req).then((held) => held || fetch(req)));
  }
});
