// Clicking a [n] marker scrolls to its source card and highlights it (no network, no framework).
(function () {
  function show(target) {
    var card = document.getElementById(target);
    if (!card) return false;
    var folded = card.closest('details');
    if (folded) folded.open = true;
    document.querySelectorAll('.src-card.active').forEach(function (c) { c.classList.remove('active'); });
    card.classList.add('active');
    card.scrollIntoView({behavior: 'smooth', block: 'nearest'});
    return true;
  }
  document.addEventListener('click', function (ev) {
    var a = ev.target && ev.target.closest ? ev.target.closest('a.cite') : null;
    if (!a) return;
    ev.preventDefault();
    ev.stopPropagation();
    var target = a.getAttribute('data-target') || (a.getAttribute('href') || '').replace(/^#/, '');
    show(target);
  }, true);
})();
