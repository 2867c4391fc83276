/* Small behaviours of every page, bound by data- attributes instead of inline handlers:
 * the Content-Security-Policy allows scripts from our static files only.
 *
 *   <select data-autosubmit>   submits its form when changed (the language switcher)
 *   <button data-print>        opens the print dialogue
 */
(function () {
  "use strict";

  document.addEventListener("change", function (event) {
    var el = event.target;
    if (el instanceof Element && el.hasAttribute("data-autosubmit") && el.form) {
      if (typeof el.form.requestSubmit === "function") el.form.requestSubmit();
      else el.form.submit();
    }
  });

  document.addEventListener("click", function (event) {
    var button = event.target instanceof Element ? event.target.closest("[data-print]") : null;
    if (button) {
      event.preventDefault();
      window.print();
    }
  });
})();
