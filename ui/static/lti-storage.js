/* LTI platform storage (1EdTech LTI Client Side postMessages): the tool's login page keeps the
   login's secret in the platform's frame (lti.put_data) and then goes on to the platform's
   authorization URL; the launch page reads it back (lti.get_data) and posts it to /lti/verify.
   Messages go only to the platform's origin, and only its answers to our message id count. */
(function () {
  "use strict";
  var TIMEOUT_MS = 10000;
  var box = document.getElementById("lti-storage");
  if (!box) {
    return;
  }
  var data = box.dataset;
  var subject = data.mode === "put" ? "lti.put_data" : "lti.get_data";
  var status = document.getElementById("lti-storage-status");
  var failed = document.getElementById("lti-storage-failed");

  function fail(text) {
    status.textContent = text;
    failed.hidden = false;
  }

  function messageId() {
    if (window.crypto && window.crypto.randomUUID) {
      return window.crypto.randomUUID();
    }
    var bytes = new Uint8Array(16);
    window.crypto.getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
  }

  // "_parent" is the window framing the tool; any other name is a frame of that window
  // (Canvas names its forwarding frame "post_message_forwarding").
  var host = window.parent !== window ? window.parent : window.opener;
  var target = null;
  try {
    target = data.target === "_parent" ? host : host && host.frames[data.target];
  } catch (error) {
    target = null;
  }
  if (!target) {
    fail("Your course page offers no storage frame named \u201c" + data.target + "\u201d.");
    return;
  }

  var id = messageId();
  var timer = null;

  function answer(event) {
    var reply = event.data;
    if (event.origin !== data.origin || !reply || typeof reply !== "object") {
      return;
    }
    if (reply.subject !== subject + ".response" || reply.message_id !== id) {
      return;
    }
    window.clearTimeout(timer);
    window.removeEventListener("message", answer);
    if (reply.error) {
      var why = reply.error.message || reply.error.code || "an error";
      fail("Your course page could not keep this launch's check: " + why + ".");
      return;
    }
    if (data.mode === "put") {
      status.textContent = "Opening the assistant…";
      window.location.replace(data.next);
      return;
    }
    var form = document.getElementById("lti-storage-form");
    form.elements.lti_storage_value.value = typeof reply.value === "string" ? reply.value : "";
    form.submit();
  }

  window.addEventListener("message", answer);
  timer = window.setTimeout(function () {
    window.removeEventListener("message", answer);
    fail("Your course page did not answer within " + TIMEOUT_MS / 1000 + " seconds.");
  }, TIMEOUT_MS);
  var message = { subject: subject, message_id: id, key: data.key };
  if (data.mode === "put") {
    message.value = data.value;
  }
  target.postMessage(message, data.origin);
})();
