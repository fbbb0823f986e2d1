/* Adds the browser's location to forms marked .locate, when the user allows it. */
(function () {
  if (!navigator.geolocation) return;
  var forms = document.querySelectorAll("form.locate");
  if (!forms.length) return;
  navigator.geolocation.getCurrentPosition(function (pos) {
    forms.forEach(function (form) {
      form.latitude.value = pos.coords.latitude.toFixed(6);
      form.longitude.value = pos.coords.longitude.toFixed(6);
      form.accuracy.value = Math.round(pos.coords.accuracy);
    });
  }, function () {}, {timeout: 10000, maximumAge: 60000});
})();
