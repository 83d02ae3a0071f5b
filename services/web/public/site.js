// The one script: an enhancement only. Pages work without it; with it, the meme search can fill in the browser's
// location. Loaded from this site (the Content-Security-Policy allows no inline script).
'use strict';
document.addEventListener('DOMContentLoaded', function () {
  var button = document.querySelector('[data-locate]');
  if (!button || !('geolocation' in navigator)) return;
  button.hidden = false;
  button.addEventListener('click', function () {
    button.disabled = true;
    navigator.geolocation.getCurrentPosition(
      function (position) {
        document.getElementById('m-lat').value = position.coords.latitude.toFixed(4);
        document.getElementById('m-lon').value = position.coords.longitude.toFixed(4);
        var radius = document.getElementById('m-radius');
        if (!radius.value) radius.value = '50';
        button.disabled = false;
      },
      function () {
        button.disabled = false;
        button.textContent = 'Location not available';
      },
      { timeout: 10000 },
    );
  });
});
