// Turn on staff alerts on this browser: its own service worker (scope /coordinator/alerts/), a push
// subscription sent to the server. No inline script (strict CSP).
(function () {
  "use strict";
  var box = document.getElementById("alerts-push");
  var button = document.getElementById("alerts-on");
  var status = document.getElementById("alerts-status");
  if (!box || !button) return;

  function keyBytes(base64url) {
    var padded = (base64url + "===".slice((base64url.length + 3) % 4)).replace(/-/g, "+").replace(/_/g, "/");
    var raw = atob(padded);
    var out = new Uint8Array(raw.length);
    for (var i = 0; i < raw.length; i++) out[i] = raw.charCodeAt(i);
    return out;
  }

  function say(text) { status.textContent = text; }

  button.addEventListener("click", async function () {
    if (!("serviceWorker" in navigator && "PushManager" in window && "Notification" in window)) {
      say("This browser cannot show alerts. Choose email below, or try another browser.");
      return;
    }
    button.disabled = true;
    say("Setting up…");
    try {
      var registration = await navigator.serviceWorker.register(box.dataset.swUrl, { scope: "/coordinator/alerts/" });
      await navigator.serviceWorker.ready;
      var permission = Notification.permission === "granted" ? "granted" : await Notification.requestPermission();
      if (permission !== "granted") throw new Error("permission");
      var subscription = await registration.pushManager.getSubscription() || await registration.pushManager.subscribe({
        userVisibleOnly: true, applicationServerKey: keyBytes(box.dataset.vapidKey)
      });
      var response = await fetch(box.dataset.subscribeUrl, {
        method: "POST", credentials: "same-origin",
        headers: { "Content-Type": "application/json", "X-CSRF-Token": box.dataset.csrf },
        body: JSON.stringify({ subscription: subscription.toJSON() })
      });
      if (!response.ok) throw new Error("server");
      say("Alerts are on for this browser.");
    } catch (err) {
      say(err && err.message === "permission"
        ? "This browser was not allowed to show alerts. Allow notifications for this site in the browser's settings, then try again."
        : "Alerts could not be turned on just now. Please try again, or choose email below.");
    } finally {
      button.disabled = false;
    }
  });
})();
