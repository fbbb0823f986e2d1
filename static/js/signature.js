/* A finger signature on a canvas, sent as a PNG data URL in the hidden field (orders/rate.html). */
(function () {
  var canvas = document.getElementById("sign-pad");
  if (!canvas || !canvas.getContext) return;
  document.getElementById("sign-box").hidden = false;
  var ctx = canvas.getContext("2d"), drawing = false, signed = false;
  ctx.lineWidth = 4; ctx.lineCap = "round"; ctx.strokeStyle = "#111";
  function point(e) {
    var r = canvas.getBoundingClientRect();
    return [(e.clientX - r.left) * canvas.width / r.width, (e.clientY - r.top) * canvas.height / r.height];
  }
  canvas.addEventListener("pointerdown", function (e) {
    drawing = true; signed = true; var p = point(e); ctx.beginPath(); ctx.moveTo(p[0], p[1]);
    try { canvas.setPointerCapture(e.pointerId); } catch (err) { /* synthetic pointer */ }
    e.preventDefault();
  });
  canvas.addEventListener("pointermove", function (e) {
    if (!drawing) return; var p = point(e); ctx.lineTo(p[0], p[1]); ctx.stroke(); e.preventDefault();
  });
  ["pointerup", "pointercancel"].forEach(function (name) {
    canvas.addEventListener(name, function () { drawing = false; });
  });
  document.getElementById("sign-clear").addEventListener("click", function () {
    ctx.clearRect(0, 0, canvas.width, canvas.height); signed = false;
  });
  document.getElementById("rate-form").addEventListener("submit", function () {
    this.signature.value = signed ? canvas.toDataURL("image/png") : "";
  });
})();
