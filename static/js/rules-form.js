/* The new rule-set version form (templates/ledger/rules_version_form.html).
 *
 * The form works without this script: it has a few blank rows and a "remove" box per
 * row, and the server checks everything. The script adds:
 *   <button data-add-row="<template id>" data-target="<tbody id>">  copies a blank row from
 *       the <template>, numbering it from data-next-index (on the template, else the tbody)
 *   <button data-remove-row>   drops a rule row added here (and its attendance row)
 *   [data-row-remove] boxes    grey their row out
 *   [data-sum-scope]           shows the sum of its [data-summed] inputs in [data-sum-total]
 *   [data-rule-source]         shows a new rule's attendance choices only for attendance
 *   [data-js-only]             elements hidden until the script runs
 */
(function () {
  "use strict";

  var form = document.getElementById("rule-version-form");
  if (!form) return;

  function removed(input) {
    var row = input.closest("tr");
    return row !== null && row.querySelector("[data-row-remove]:checked") !== null;
  }

  function refresh() {
    form.querySelectorAll("[data-row-remove]").forEach(function (box) {
      var row = box.closest("tr");
      if (row) row.classList.toggle("pb-row-removed", box.checked);
    });
    form.querySelectorAll("[data-sum-scope]").forEach(function (scope) {
      var output = scope.querySelector("[data-sum-total]");
      if (!output) return;
      var total = 0;
      scope.querySelectorAll("[data-summed]").forEach(function (input) {
        if (input.value !== "" && !removed(input)) total += parseFloat(input.value) || 0;
      });
      total = Math.round(total * 100) / 100;
      output.textContent = String(total);
      output.classList.toggle("text-danger", total !== 100);
      output.classList.toggle("text-success", total === 100);
    });
    form.querySelectorAll("[data-rule-source]").forEach(function (select) {
      var row = select.closest("tr");
      var details = row ? row.nextElementSibling : null;
      if (details && details.hasAttribute("data-new-rule-attendance")) {
        details.hidden = select.value !== "attendance";
      }
    });
  }

  function showScriptOnly(root) {
    root.querySelectorAll("[data-js-only]").forEach(function (el) {
      el.hidden = false;
    });
  }

  function addRow(button) {
    var template = document.getElementById(button.getAttribute("data-add-row"));
    var target = document.getElementById(button.getAttribute("data-target"));
    if (!template || !target) return;
    var counter = template.hasAttribute("data-next-index") ? template : target;
    var index = parseInt(counter.getAttribute("data-next-index"), 10) || 0;
    counter.setAttribute("data-next-index", String(index + 1));
    var holder = document.createElement("tbody");
    holder.innerHTML = template.innerHTML.split("__prefix__").join(String(index));
    var dimension = target.getAttribute("data-dimension");
    var first = null;
    Array.prototype.slice.call(holder.children).forEach(function (row) {
      if (dimension) {
        row.querySelectorAll("[data-item-dimension]").forEach(function (input) {
          input.value = dimension;
        });
      }
      showScriptOnly(row);
      target.appendChild(row);
      if (!first) first = row;
    });
    var focus = first ? first.querySelector("input:not([type=hidden]), select") : null;
    if (focus) focus.focus();
  }

  document.addEventListener("click", function (event) {
    if (!(event.target instanceof Element)) return;
    var add = event.target.closest("[data-add-row]");
    if (add) {
      event.preventDefault();
      addRow(add);
      refresh();
      return;
    }
    var remove = event.target.closest("[data-remove-row]");
    if (remove) {
      event.preventDefault();
      var row = remove.closest("tr");
      var details = row ? row.nextElementSibling : null;
      if (details && details.hasAttribute("data-new-rule-attendance")) details.remove();
      if (row) row.remove();
      refresh();
    }
  });
  form.addEventListener("input", refresh);
  form.addEventListener("change", refresh);
  showScriptOnly(document);
  refresh();
})();
