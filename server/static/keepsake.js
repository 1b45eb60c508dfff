// Small progressive enhancements; every page works without them.
//
// - On narrow screens the main navigation folds behind a Menu button.
// - [data-copy] buttons copy a link; [data-share] buttons open the system's share sheet.
(function () {
  'use strict';

  function navigation() {
    var toggle = document.querySelector('.nav-toggle');
    var nav = document.getElementById('site-nav');
    if (!toggle || !nav) return;
    var narrow = window.matchMedia('(max-width: 719px)');
    function fold() {
      if (narrow.matches) {
        toggle.hidden = false;
        nav.classList.toggle('folded', toggle.getAttribute('aria-expanded') !== 'true');
      } else {
        toggle.hidden = true;
        nav.classList.remove('folded');
      }
    }
    toggle.addEventListener('click', function () {
      var open = toggle.getAttribute('aria-expanded') === 'true';
      toggle.setAttribute('aria-expanded', open ? 'false' : 'true');
      fold();
    });
    narrow.addEventListener('change', fold);
    fold();
  }

  function sharing() {
    if (navigator.clipboard) document.querySelectorAll('[data-copy]').forEach(function (button) {
      button.hidden = false;
      button.addEventListener('click', function () {
        var done = button.getAttribute('data-copied');
        navigator.clipboard.writeText(button.getAttribute('data-copy')).then(function () {
          var label = button.textContent;
          button.textContent = done;
          window.setTimeout(function () { button.textContent = label; }, 2000);
        });
      });
    });
    if (!navigator.share) return;
    document.querySelectorAll('[data-share]').forEach(function (button) {
      button.hidden = false;
      button.addEventListener('click', function () {
        navigator.share({ title: button.getAttribute('data-title'), url: button.getAttribute('data-share') })
          .catch(function () {});
      });
    });
  }

  navigation();
  sharing();
})();
