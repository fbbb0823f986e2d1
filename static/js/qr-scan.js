/* QR scanning in the page where the browser offers BarcodeDetector; otherwise the phone's
   own camera app opens the code's link, which fills in the code here (orders/checkin.html). */
(function () {
  if (!("BarcodeDetector" in window) || !navigator.mediaDevices) return;
  var box = document.getElementById("scanner");
  if (!box) return;
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
          var form = document.getElementById("checkin-form");
          form.code.value = code; form.method.value = "qr"; form.submit();
        });
      }, 400);
    });
  });
})();
