/* The admin's periodic-task form (templates/admin/djcelery/change_periodictask_form.html):
 * under the crontab field, say in words when the chosen schedule runs. What
 * django-celery-beat does with an inline script, from a static file for the CSP. */
(function () {
  "use strict";
  var $ = window.django && window.django.jQuery;
  var script = document.getElementById("periodic-task-overrides");
  var data = document.getElementById("readable-crontabs");
  if (!$ || !script || !data) return;
  var readable = JSON.parse(data.textContent);
  var help = script.getAttribute("data-crontab-help") || "";

  function update() {
    var said = readable[$("#id_crontab").val()];
    var box = $(".field-crontab .help").empty().text(help);
    if (said) box.append("<br>").append(document.createTextNode("Translation: " + said));
  }

  $(".field-crontab_translation").hide();
  $(".field-crontab").on("change", update);
})();
