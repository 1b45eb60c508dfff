// The identity page while a provider checks a submission: asks for the status every two
// seconds and reloads the page once the check is decided, for up to two minutes.
(function () {
  var tries = 0;
  function ask() {
    tries += 1;
    fetch('/identity/status', { credentials: 'same-origin', headers: { Accept: 'application/json' } })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (body) {
        if (body && body.status !== 'pending') {
          window.location.reload();
        } else if (tries < 60) {
          window.setTimeout(ask, 2000);
        }
      })
      .catch(function () {
        if (tries < 60) window.setTimeout(ask, 4000);
      });
  }
  window.setTimeout(ask, 1500);
})();
