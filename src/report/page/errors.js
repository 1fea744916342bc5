// Runs first, in <head>: anything that goes wrong while the page renders is
// shown at its top (#page-errors) rather than leaving a half-drawn page
// unexplained: uncaught errors, rejected promises, console.error, and
// anything the page's Content-Security-Policy blocked.
(function () {
  'use strict';
  var pending = [];
  function show(text) {
    var box = document.getElementById('page-errors');
    if (!box) {
      pending.push(text);
      return;
    }
    box.hidden = false;
    var line = document.createElement('div');
    line.textContent = text;
    box.appendChild(line);
  }
  window.addEventListener('error', function (e) {
    show('error: ' + e.message + (e.lineno ? ' (line ' + e.lineno + ')' : ''));
  });
  window.addEventListener('unhandledrejection', function (e) {
    show('error: ' + String(e.reason));
  });
  document.addEventListener('securitypolicyviolation', function (e) {
    show('blocked by the page\'s security policy: ' + e.violatedDirective + ' ' + (e.blockedURI || 'inline'));
  });
  var consoleError = console.error;
  console.error = function () {
    show('console.error: ' + Array.prototype.map.call(arguments, String).join(' '));
    return consoleError.apply(console, arguments);
  };
  document.addEventListener('DOMContentLoaded', function () {
    var queued = pending;
    pending = [];
    queued.forEach(show);
  });
})();
