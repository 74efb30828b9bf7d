// Alongside reminders service worker (scope /r/): shows a pushed reminder; tapping it opens /r/.
// Nothing is cached: the reminders page is only useful online.
"use strict";

self.addEventListener("install", function () { self.skipWaiting(); });
self.addEventListener("activate", function (event) { event.waitUntil(self.clients.claim()); });

function reminderFrom(event) {
  var data = {};
  try { data = event.data ? event.data.json() : {}; } catch (err) { data = {}; }
  return {
    title: "Alongside",  // always this title, whatever arrives
    body: typeof data.body === "string" ? data.body.slice(0, 120) : "You have a reminder.",
    tag: typeof data.tag === "string" ? data.tag : "alongside-reminder",
    url: "/r/"
  };
}

self.showReminder = function (event) {
  var reminder = reminderFrom(event);
  return self.registration.showNotification(reminder.title, {
    body: reminder.body,
    tag: reminder.tag,
    icon: "/static/person/icon.svg",
    data: { url: reminder.url }
  });
};

self.addEventListener("push", function (event) {
  event.waitUntil(self.showReminder(event));
});

self.addEventListener("notificationclick", function (event) {
  event.notification.close();
  event.waitUntil(self.clients.matchAll({ type: "window", includeUncontrolled: true }).then(function (list) {
    for (var i = 0; i < list.length; i++) {
      if (new URL(list[i].url).pathname.indexOf("/r/") === 0 && "focus" in list[i]) {
        return list[i].navigate("/r/").then(function (c) { return (c || list[i]).focus(); });
      }
    }
    return self.clients.openWindow("/r/");
  }));
});
