/* QR scanning in the page where the browser offers BarcodeDetector; otherwise the phone's
   own camera app opens the code's link, which fills in the code here. The box #scanner names
   the form to fill with data-form (default: orders/checkin.html's "checkin-form"); the
   form's "code" field gets the link's ?code=, its "method" field (if any) "qr". Used by
   orders/checkin.html and exchange/collect.html. */
(function () {
  if (!("BarcodeDetector" in window) || !navigator.mediaDevices) return;
  var box = document.getElementById("scanner");
  if (!box) return;
  var form = document.getElementById(box.dataset.form || "checkin-form");
  if (!form) return;
  box.hidden = false;
  document.getElementById("scan").addEventListener("click", function () {
    var video = document.getElementById("scan-video");
    var detector = new BarcodeDetector({formats: ["qr_code"]});
    navigator.mediaDevices.getUserMedia({video: {facingMode: "environment"}}).then(function (stream) {
      video.srcObject = stream; video.hidden = false; video.play();
      var timer = setInterval(function () {
        detector.detect(video).then(function (codes) {
          if (!codes.length) return;
          var code = new URL(codes[0].rawValue, location.href).searchParams.get("code");
          if (!code) return;
          clearInterval(timer);
          stream.getTracks().forEach(function (t) { t.stop(); });
          form.elements.code.value = code;
          if (form.elements.method) form.elements.method.value = "qr";
          form.submit();
        });
      }, 400);
    });
  });
})();
