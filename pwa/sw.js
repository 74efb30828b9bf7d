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

// Lone working (issue 14): "Are you OK? Tap to check out" opens the app at the check-in. The message holds no
// name or place (the server's fixed words); the check-in's page shows what the phone itself knows.
self.addEventListener("push", (event) => {
  let data = {};
  try { data = event.data ? event.data.json() : {}; } catch { data = {}; }
  const url = typeof data.url === "string" && data.url.startsWith("/app/") ? data.url : "/app/";
  event.waitUntil(self.registration.showNotification(data.title || "Alongside", {
    body: data.body || "Open Alongside.", tag: data.tag || "alongside", data: { url }, requireInteraction: true,
    icon: "/app/icons/icon-192.png",
  }));
});

self.addEventListener("notificationclick", (event) => {
  event.notification.close();
  const url = (event.notification.data && event.notification.data.url) || "/app/";
  event.waitUntil(self.clients.matchAll({ type: "window", includeUncontrolled: true }).then((list) => {
    const open = list.find((c) => new URL(c.url).pathname.startsWith("/app/"));
    if (open) return open.navigate(url).then((c) => (c || open).focus());
    return self.clients.openWindow(url);
  }));
});
