// Alongside staff alerts service worker (scope /coordinator/alerts/): shows a pushed alert; tapping it opens the
// alert's page (which checks who may see it). The words come from the server's fixed templates: no names, no
// notes. Nothing is cached.
"use strict";

self.addEventListener("install", function () { self.skipWaiting(); });
self.addEventListener("activate", function (event) { event.waitUntil(self.clients.claim()); });

function alertFrom(event) {
  var data = {};
  try { data = event.data ? event.data.json() : {}; } catch (err) { data = {}; }
  var url = typeof data.url === "string" && data.url.indexOf("/coordinator/alerts/") === 0 ? data.url : "/coordinator/alerts/";
  return {
    title: "Alongside",
    body: typeof data.body === "string" ? data.body.slice(0, 160) : "Something needs you now.",
    tag: typeof data.tag === "string" ? data.tag : "alongside-alert",
    url: url
  };
}

self.addEventListener("push", function (event) {
  var alert = alertFrom(event);
  event.waitUntil(self.registration.showNotification(alert.title, {
    body: alert.body, tag: alert.tag, requireInteraction: true, data: { url: alert.url }
  }));
});

self.addEventListener("notificationclick", function (event) {
  event.notification.close();
  var url = (event.notification.data && event.notification.data.url) || "/coordinator/alerts/";
  event.waitUntil(self.clients.openWindow(url));
});
