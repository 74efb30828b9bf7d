// The field app's service worker: wires events only; strategies live in js/sw-strategies.js.
// The server stamps SHELL_VERSION with a hash of the app's files, so every change is a new worker.
self.SHELL_VERSION = "__SHELL_VERSION__";
importScripts("/app/js/sw-strategies.js");
const S = self.AlongsideStrategies;

self.addEventListener("install", (event) => {
  // No skipWaiting here: an update waits until the user chooses to reload (never mid-form).
  event.waitUntil(S.precache());
});

self.addEventListener("activate", (event) => {
  event.waitUntil(S.deleteOldCaches().then(() => self.clients.claim()));
});

self.addEventListener("fetch", (event) => {
  const handled = S.route(event.request);
  if (handled) event.respondWith(handled);
});

self.addEventListener("message", (event) => {
  if (event.data && event.data.type === "SKIP_WAITING") self.skipWaiting();
});

// Background Sync (Chromium): ask an open window to flush its outbox; the app flushes on start anyway.
self.addEventListener("sync", (event) => {
  if (event.tag === S.SYNC_TAG) event.waitUntil(S.askClientsToFlush());
});
