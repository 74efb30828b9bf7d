// Alongside reminders page (/r/): turn reminders on (service worker + push subscription), keep this
// phone's subscription on file, and unsubscribe when the person stops. No inline script (strict CSP).
(function () {
  "use strict";

  function meta(name) {
    var el = document.querySelector('meta[name="' + name + '"]');
    return el ? el.getAttribute("content") : "";
  }

  function keyBytes(base64url) {
    var padded = (base64url + "===".slice((base64url.length + 3) % 4)).replace(/-/g, "+").replace(/_/g, "/");
    var raw = atob(padded);
    var out = new Uint8Array(raw.length);
    for (var i = 0; i < raw.length; i++) out[i] = raw.charCodeAt(i);
    return out;
  }

  function isIOS() {
    return /iPad|iPhone|iPod/.test(navigator.userAgent) ||
      (navigator.platform === "MacIntel" && navigator.maxTouchPoints > 1);
  }

  function installed() {
    return window.navigator.standalone === true ||
      (window.matchMedia && window.matchMedia("(display-mode: standalone)").matches);
  }

  function pushSupported() {
    return "serviceWorker" in navigator && "PushManager" in window && "Notification" in window;
  }

  function postJSON(url, body) {
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": meta("csrf-token") },
      body: JSON.stringify(body)
    });
  }

  async function subscribe() {
    var registration = await navigator.serviceWorker.register("/r/sw.js", { scope: "/r/" });
    await navigator.serviceWorker.ready;
    var permission = Notification.permission === "granted" ? "granted" : await Notification.requestPermission();
    if (permission !== "granted") {
      throw new Error("permission");
    }
    var existing = await registration.pushManager.getSubscription();
    if (existing) return existing;
    return registration.pushManager.subscribe({
      userVisibleOnly: true,
      applicationServerKey: keyBytes(meta("vapid-public-key"))
    });
  }

  function say(el, text) {
    if (el) el.textContent = text;
  }

  function setUpConsent() {
    var box = document.getElementById("consent");
    var button = document.getElementById("turn-on");
    var status = document.getElementById("consent-status");
    if (!box || !button) return;
    if (isIOS() && !installed()) {
      document.getElementById("ios-guide").hidden = false;
    }
    button.addEventListener("click", async function () {
      if (!pushSupported()) {
        say(status, (isIOS() ? "First add this page to your Home Screen (see the steps above), then open it from there."
                             : "This browser cannot show reminders. Try another browser on this phone.")
          + " Or ask your peer worker for reminders by text message, or add your visits to your phone's calendar.");
        return;
      }
      button.disabled = true;
      say(status, "Setting up…");
      try {
        var subscription = await subscribe();
        var response = await postJSON(box.dataset.consentUrl, {
          subscription: subscription.toJSON(),
          text_version: box.dataset.textVersion,
          label: isIOS() ? "iPhone" : (/Android/.test(navigator.userAgent) ? "Android phone" : "Phone")
        });
        var body = await response.json().catch(function () { return {}; });
        if (response.ok) {
          say(status, "Reminders are on.");
          window.location.assign(body.next || "/r/");
          return;
        }
        say(status, body.message || "That did not work. Please try again.");
      } catch (err) {
        say(status, err && err.message === "permission"
          ? "Reminders need permission to show notifications. You can allow it in this phone's settings."
          : "That did not work. Please try again.");
      }
      button.disabled = false;
    });
  }

  function setUpContact() {
    var form = document.getElementById("contact-form");
    var box = document.getElementById("consent");
    if (!form || !box) return;
    var status = document.getElementById("contact-status");
    form.addEventListener("submit", async function (event) {
      event.preventDefault();
      var button = document.getElementById("contact-on");
      var chosen = form.querySelector('input[name="channel"]:checked');
      button.disabled = true;
      say(status, "Setting up…");
      try {
        var response = await postJSON(box.dataset.consentUrl, {
          channel: chosen ? chosen.value : "sms",
          address: document.getElementById("contact-address").value,
          text_version: box.dataset.textVersion,
          label: chosen && chosen.value === "email" ? "Email" : "Text messages"
        });
        var body = await response.json().catch(function () { return {}; });
        if (response.ok) {
          say(status, "Reminders are on.");
          window.location.assign(body.next || "/r/");
          return;
        }
        say(status, body.message || "That did not work. Please try again.");
      } catch (err) {
        say(status, "That did not work. Please check you have signal and try again.");
      }
      button.disabled = false;
    });
  }

  async function keepSubscriptionOnFile() {
    if (!pushSupported() || Notification.permission !== "granted") return;
    var registration = await navigator.serviceWorker.getRegistration("/r/");
    if (!registration) return;
    var subscription = await registration.pushManager.getSubscription();
    if (subscription) {
      await postJSON("/r/subscription", { subscription: subscription.toJSON() });
    }
  }

  function setUpHome() {
    var again = document.getElementById("resubscribe");
    if (again) {
      again.addEventListener("click", async function () {
        again.disabled = true;
        try {
          var subscription = await subscribe();
          var response = await postJSON("/r/subscription", { subscription: subscription.toJSON() });
          if (response.ok) { window.location.reload(); return; }
        } catch (err) { /* fall through */ }
        again.disabled = false;
      });
    } else if (document.getElementById("stop-form")) {
      keepSubscriptionOnFile().catch(function () {});
    }
    var stopForm = document.getElementById("stop-form");
    if (stopForm) {
      stopForm.addEventListener("submit", async function (event) {
        if (stopForm.dataset.unsubscribed === "1" || !("serviceWorker" in navigator)) return;
        event.preventDefault();
        try {
          var registration = await navigator.serviceWorker.getRegistration("/r/");
          var subscription = registration && await registration.pushManager.getSubscription();
          if (subscription) await subscription.unsubscribe();
        } catch (err) { /* the server removes it anyway */ }
        stopForm.dataset.unsubscribed = "1";
        stopForm.submit();
      });
    }
  }

  setUpConsent();
  setUpContact();
  setUpHome();
})();
