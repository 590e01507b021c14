// glassgate console: the WebAuthn ceremonies, and nothing else.
//
// Served from the console itself (CSP script-src 'self'; no inline script, no CDN).
// A form opts in with data attributes; every other form posts as plain HTML:
//
//   <form data-ceremony="get|create"           navigator.credentials.get or .create
//         data-begin="/api/..."                POST: the fields named in data-begin-fields
//         data-begin-fields="name"             (comma-separated; never the password)
//         data-finish="/api/..."               POST: every field + challenge_id + credential
//         data-next="/...">                    where to go afterwards (else the API's "next")
//     ... <p data-ceremony-status role="alert" hidden></p>
//
// A finish answer with "shown_once": {label, value} (a reset link handed to the
// custodian whose approval met the quorum) is shown in the status instead of
// navigating away, since it cannot be fetched again.
//
// Begin answers {challenge_id, options}: options exactly as py_webauthn's
// options_to_json gives them, parsed by PublicKeyCredential.parse*OptionsFromJSON;
// the credential goes back as credential.toJSON(). The CSRF token comes from
// <meta name="csrf-token"> and travels in the X-CSRFToken header.
"use strict";

(() => {
  const FAILED = "The request failed. Try again, or ask a custodian.";
  const KEY_REFUSED =
    "Your key did not answer: it was cancelled, timed out, or could not verify you. Try again.";

  class CeremonyError extends Error {}

  function csrfToken() {
    const meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.getAttribute("content") || "" : "";
  }

  async function postJSON(url, body) {
    let response;
    try {
      response = await fetch(url, {
        method: "POST",
        credentials: "same-origin",
        cache: "no-store",
        redirect: "error",
        headers: {
          "Accept": "application/json",
          "Content-Type": "application/json",
          "X-CSRFToken": csrfToken(),
        },
        body: JSON.stringify(body),
      });
    } catch (_) {
      throw new CeremonyError("The console did not answer. Check your connection and try again.");
    }
    let payload = null;
    try {
      payload = await response.json();
    } catch (_) {
      payload = null;
    }
    if (!response.ok) {
      const message = payload && payload.message;  // the console's ErrorBody
      throw new CeremonyError(typeof message === "string" && message ? message : FAILED);
    }
    return payload || {};
  }

  function fieldsOf(form) {
    const values = {};
    for (const [name, value] of new FormData(form)) {
      if (name !== "csrftoken" && typeof value === "string") {
        values[name] = value;
      }
    }
    return values;
  }

  function pick(values, names) {
    const picked = {};
    for (const name of (names || "").split(",").map((n) => n.trim()).filter(Boolean)) {
      if (name in values) {
        picked[name] = values[name];
      }
    }
    return picked;
  }

  function localPath(candidate) {
    // Only a path on this origin: never "//host" or "https://elsewhere".
    return typeof candidate === "string" && /^\/(?![\/\\])/.test(candidate) ? candidate : null;
  }

  async function ceremony(kind, options) {
    try {
      if (kind === "create") {
        return await navigator.credentials.create({
          publicKey: PublicKeyCredential.parseCreationOptionsFromJSON(options),
        });
      }
      return await navigator.credentials.get({
        publicKey: PublicKeyCredential.parseRequestOptionsFromJSON(options),
      });
    } catch (error) {
      if (error && (error.name === "NotAllowedError" || error.name === "AbortError")) {
        throw new CeremonyError(KEY_REFUSED);
      }
      if (error && error.name === "InvalidStateError") {
        throw new CeremonyError("This key is already enrolled here. Use another key.");
      }
      throw new CeremonyError(FAILED);
    }
  }

  async function run(form) {
    const kind = form.dataset.ceremony;
    const values = fieldsOf(form);
    const begun = await postJSON(form.dataset.begin, pick(values, form.dataset.beginFields));
    const credential = await ceremony(kind, begun.options);
    if (!credential) {
      throw new CeremonyError(KEY_REFUSED);
    }
    const done = await postJSON(form.dataset.finish, {
      ...values,
      challenge_id: begun.challenge_id,
      credential: credential.toJSON(),
    });
    const once = done.shown_once;
    if (once && typeof once.label === "string" && typeof once.value === "string") {
      show(form, `${once.label}\n${once.value}`);
      return false;
    }
    window.location.assign(localPath(form.dataset.next) || localPath(done.next) || "/");
    return true;
  }

  function show(form, message) {
    const status = form.querySelector("[data-ceremony-status]");
    if (status) {
      status.textContent = message;
      status.hidden = false;
    }
  }

  function supported() {
    return (
      typeof window.PublicKeyCredential === "function" &&
      typeof PublicKeyCredential.parseCreationOptionsFromJSON === "function" &&
      typeof PublicKeyCredential.parseRequestOptionsFromJSON === "function"
    );
  }

  document.addEventListener("submit", async (event) => {
    const form = event.target;
    if (!(form instanceof HTMLFormElement) || !form.dataset.ceremony) {
      return;
    }
    event.preventDefault();
    if (form.getAttribute("aria-busy") === "true") {
      return;
    }
    if (!supported()) {
      show(form, "This browser cannot use security keys or passkeys here. Use a current browser.");
      return;
    }
    form.setAttribute("aria-busy", "true");
    const buttons = form.querySelectorAll("button");
    buttons.forEach((b) => { b.disabled = true; });
    show(form, "Waiting for your key…");
    try {
      if (!(await run(form))) {
        form.removeAttribute("aria-busy");
      }
    } catch (error) {
      show(form, error instanceof CeremonyError ? error.message : FAILED);
      buttons.forEach((b) => { b.disabled = false; });
      form.removeAttribute("aria-busy");
    }
  });

  document.addEventListener("DOMContentLoaded", () => {
    document.documentElement.dataset.console = "ready";
  });
})();
