// Applies the saved theme before the first paint, so a dark-theme user never sees a white flash.
(function () {
  try {
    var saved = localStorage.getItem('hearth.theme');
    var dark = saved === 'dark' || (saved !== 'light' && window.matchMedia('(prefers-color-scheme: dark)').matches);
    document.documentElement.dataset.theme = dark ? 'dark' : 'light';
  } catch (e) {
    document.documentElement.dataset.theme = 'light';
  }
})();
