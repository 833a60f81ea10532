// Sortable tables (vendored tablesort) and the filters above the findings table.
// Pages are complete without JavaScript; this only adds sorting and filtering.
(function () {
  function setup() {
    document.querySelectorAll("table.cb-sortable").forEach(function (table) {
      if (!table.dataset.sortReady && window.Tablesort) {
        new Tablesort(table);
        table.dataset.sortReady = "1";
      }
    });
    document.querySelectorAll("[data-cb-filter-for]").forEach(function (form) {
      var table = document.getElementById(form.getAttribute("data-cb-filter-for"));
      if (!table || form.dataset.ready) return;
      form.dataset.ready = "1";
      var apply = function () {
        var wanted = {};
        form.querySelectorAll("select").forEach(function (s) { wanted[s.name] = s.value; });
        var shown = 0;
        table.querySelectorAll("tbody tr").forEach(function (row) {
          var ok = Object.keys(wanted).every(function (k) {
            return !wanted[k] || row.getAttribute("data-" + k) === wanted[k];
          });
          row.hidden = !ok;
          if (ok) shown += 1;
        });
        var count = form.querySelector(".cb-count");
        if (count) count.textContent = shown + " shown";
      };
      form.addEventListener("change", apply);
      apply();
    });
  }
  if (window.document$) { window.document$.subscribe(setup); } else { document.addEventListener("DOMContentLoaded", setup); }
})();
