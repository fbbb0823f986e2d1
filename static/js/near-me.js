/* "Nearest first": sends the filter form again with the browser's location (orders/available.html). */
(function () {
  var btn = document.getElementById("near-me");
  if (!btn || !navigator.geolocation) return;
  btn.hidden = false;
  btn.addEventListener("click", function () {
    navigator.geolocation.getCurrentPosition(function (pos) {
      var form = document.getElementById("filters");
      form.lat.value = pos.coords.latitude.toFixed(6);
      form.lng.value = pos.coords.longitude.toFixed(6);
      form.submit();
    });
  });
})();
