// Cache strategies for the field app's service worker (a classic script, loaded by sw.js with importScripts).
// Owns: the precache list, the versioned cache name, and which requests the worker answers.
(function (self) {
  const VERSION = self.SHELL_VERSION || "dev";
  const CACHE = "alongside-static-" + VERSION;
  const PREFIX = "alongside-static-";
  const SCOPE = "/app/";
  const SHELL = "/app/index.html";
  const SYNC_TAG = "alongside-outbox";
  const PRECACHE = [
    "/app/index.html",
    "/app/manifest.webmanifest",
    "/app/css/app.css",
    "/app/js/app.js",
    "/app/js/banners.js",
    "/app/js/idb-connection.js",
    "/app/js/api.js",
    "/app/js/codes.js",
    "/app/js/db.js",
    "/app/js/sync.js",
    "/app/js/ui.js",
    "/app/js/reminders-section.js",
    "/app/js/forms.js",
    "/app/js/rules.js",
    "/app/js/screens/sign-in.js",
    "/app/js/screens/lock.js",
    "/app/js/screens/caseload.js",
    "/app/js/screens/person.js",
    "/app/js/screens/visit-form.js",
    "/app/js/screens/goal-form.js",
    "/app/js/screens/referral.js",
    "/app/js/screens/resources.js",
    "/app/js/screens/diary.js",
    "/app/js/screens/sync.js",
    "/app/js/screens/settings.js",
    "/app/js/screens/lone-working.js",
    "/app/js/vault.js",
    "/app/js/chips.js",
    "/app/js/visit-state.js",
    "/app/js/goal-chart.js",
    "/app/js/person-extras.js",
    "/app/js/screens/person-form.js",
    "/app/js/screens/visit-void.js",
    "/app/js/screens/goal-rating.js",
    "/app/js/screens/ending.js",
    "/app/vendor/idb-8.0.4/idb.js",
    "/app/icons/icon-192.png",
    "/app/icons/icon-512.png",
    "/app/icons/maskable-192.png",
    "/app/icons/maskable-512.png",
    "/app/icons/apple-touch-icon.png",
  ];

  async function precache() {
    const cache = await caches.open(CACHE);
    // cache: "reload" skips the HTTP cache so a new version never precaches an old file.
    await cache.addAll(PRECACHE.map((url) => new Request(url, { cache: "reload" })));
  }

  async function deleteOldCaches() {
    const names = await caches.keys();
    await Promise.all(names.filter((n) => n.startsWith(PREFIX) && n !== CACHE).map((n) => caches.delete(n)));
  }

  async function shellFirst() {
    const cache = await caches.open(CACHE);
    const hit = await cache.match(SHELL);
    return hit || fetch(SHELL);
  }

  async function cacheFirst(request) {
    const cache = await caches.open(CACHE);
    const hit = await cache.match(request, { ignoreSearch: true });
    return hit || fetch(request);
  }

  // Returns a Promise<Response> for requests the worker answers, or null to let the network have it.
  function route(request) {
    if (request.method !== "GET") return null;
    const url = new URL(request.url);
    if (url.origin !== self.location.origin) return null;
    if (!url.pathname.startsWith(SCOPE)) return null; // /api/ and everything else: network only, never cached
    if (url.pathname === "/app/sw.js") return null;
    if (request.mode === "navigate") return shellFirst();
    return cacheFirst(request);
  }

  async function askClientsToFlush() {
    const windows = await self.clients.matchAll({ type: "window" });
    if (!windows.length) return;
    await new Promise((resolve) => {
      const channel = new MessageChannel();
      const timer = setTimeout(resolve, 60000);
      channel.port1.onmessage = () => { clearTimeout(timer); resolve(); };
      windows[0].postMessage({ type: "FLUSH" }, [channel.port2]);
    });
  }

  self.AlongsideStrategies = { CACHE, PRECACHE, SYNC_TAG, precache, deleteOldCaches, route, askClientsToFlush };
})(self);
