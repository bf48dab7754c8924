// Passkey ceremonies on the hosted pages. A form marked data-passkey runs one:
//   register      creates a passkey with the options in data-options;
//   get           signs in with one of the user's passkeys (second factor);
//   discoverable  signs in without a password: the options come from
//                 data-options-url, and on the login page the browser also
//                 offers passkeys in the email field's autofill.
// The browser's answer goes into the form's "response" field and the form is
// posted as usual, so the server sees an ordinary form post.
(function () {
  "use strict";

  function decode(s) {
    s = s.replace(/-/g, "+").replace(/_/g, "/");
    while (s.length % 4) s += "=";
    var bin = atob(s), out = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
    return out.buffer;
  }

  function encode(buf) {
    var bytes = new Uint8Array(buf), bin = "";
    for (var i = 0; i < bytes.length; i++) bin += String.fromCharCode(bytes[i]);
    return btoa(bin).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function withIDs(list) {
    return (list || []).map(function (c) {
      return Object.assign({}, c, { id: decode(c.id) });
    });
  }

  function creationOptions(o) {
    var pk = Object.assign({}, o.publicKey);
    pk.challenge = decode(pk.challenge);
    pk.user = Object.assign({}, pk.user, { id: decode(pk.user.id) });
    pk.excludeCredentials = withIDs(pk.excludeCredentials);
    return pk;
  }

  function requestOptions(o) {
    var pk = Object.assign({}, o.publicKey);
    pk.challenge = decode(pk.challenge);
    pk.allowCredentials = withIDs(pk.allowCredentials);
    return pk;
  }

  function credentialJSON(cred) {
    var r = cred.response;
    var out = {
      id: cred.id,
      rawId: encode(cred.rawId),
      type: cred.type,
      authenticatorAttachment: cred.authenticatorAttachment || undefined,
      clientExtensionResults: cred.getClientExtensionResults ? cred.getClientExtensionResults() : {},
      response: { clientDataJSON: encode(r.clientDataJSON) }
    };
    if (r.attestationObject) {
      out.response.attestationObject = encode(r.attestationObject);
      if (r.getTransports) out.response.transports = r.getTransports();
    } else {
      out.response.authenticatorData = encode(r.authenticatorData);
      out.response.signature = encode(r.signature);
      if (r.userHandle) out.response.userHandle = encode(r.userHandle);
    }
    return JSON.stringify(out);
  }

  function showError(form, text) {
    var el = form.querySelector("[data-passkey-error]");
    if (el) {
      el.textContent = text;
      el.hidden = false;
    }
  }

  // The page gives the texts in its language; the English ones stand in for a
  // page that does not.
  function problem(form, err) {
    if (err && err.name === "NotAllowedError") {
      return form.dataset.msgCancelled || "The passkey request was cancelled or timed out. Try again.";
    }
    if (err && err.name === "InvalidStateError") {
      return form.dataset.msgRegistered || "This passkey is already registered with your account.";
    }
    return form.dataset.msgFailed || "Your browser could not use a passkey here. Try again, or use another way.";
  }

  function post(form, ceremony, cred) {
    form.querySelector("[name=ceremony]").value = ceremony;
    form.querySelector("[name=response]").value = credentialJSON(cred);
    HTMLFormElement.prototype.submit.call(form);
  }

  // Options of a discoverable ceremony: fresh from the server for each try,
  // since a ceremony is used once.
  function fetchOptions(form) {
    return fetch(form.dataset.optionsUrl, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: "kind=discoverable"
    }).then(function (res) {
      if (!res.ok) throw new Error("options: " + res.status);
      return res.json();
    });
  }

  var conditional = null; // the autofill request in flight, if any

  function discoverable(form, mediation) {
    return fetchOptions(form).then(function (o) {
      var req = { publicKey: requestOptions(o.options) };
      if (mediation) {
        conditional = new AbortController();
        req.mediation = mediation;
        req.signal = conditional.signal;
      }
      return navigator.credentials.get(req).then(function (cred) {
        if (cred) post(form, o.ceremony, cred);
      });
    });
  }

  function supported() {
    return !!(window.PublicKeyCredential && navigator.credentials);
  }

  document.querySelectorAll("form[data-passkey]").forEach(function (form) {
    var mode = form.dataset.passkey;
    if (!supported()) {
      showError(form, form.dataset.msgUnsupported || "This browser cannot use passkeys.");
      form.querySelectorAll("button").forEach(function (b) { b.disabled = true; });
      return;
    }
    form.hidden = false;
    form.addEventListener("submit", function (ev) {
      ev.preventDefault();
      var run;
      if (mode === "register") {
        var o = JSON.parse(form.dataset.options);
        run = navigator.credentials.create({ publicKey: creationOptions(o) }).then(function (cred) {
          post(form, form.dataset.ceremony, cred);
        });
      } else if (mode === "get") {
        run = navigator.credentials.get({ publicKey: requestOptions(JSON.parse(form.dataset.options)) }).then(function (cred) {
          post(form, form.dataset.ceremony, cred);
        });
      } else {
        if (conditional) conditional.abort();
        run = discoverable(form, "");
      }
      run.catch(function (err) { showError(form, problem(form, err)); });
    });
    if (mode === "discoverable" && PublicKeyCredential.isConditionalMediationAvailable) {
      PublicKeyCredential.isConditionalMediationAvailable().then(function (ok) {
        if (ok) {
          discoverable(form, "conditional").catch(function () { /* autofill dismissed or aborted */ });
        }
      });
    }
  });
})();
