/* Recording points: a rule with fixed points fills them in (the option's data-points);
 * the service checks whatever is sent. */
(function () {
  "use strict";

  document.addEventListener("change", function (event) {
    if (event.target.id !== "id_rule") return;
    var option = event.target.selectedOptions[0];
    var points = document.getElementById("id_points");
    if (option && option.dataset.points !== undefined && points) points.value = option.dataset.points;
  });
})();
