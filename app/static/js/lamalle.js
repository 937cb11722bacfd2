// Small behaviours every page shares; the pages work without them.
// Forms and buttons with data-confirm ask before they submit: refusing a request, a no-show,
// putting an item out of service. Without JavaScript the action goes through unasked.
document.addEventListener("submit", (event) => {
  const form = event.target;
  const question = form.dataset.confirm || event.submitter?.dataset.confirm;
  if (question && !window.confirm(question)) event.preventDefault();
});

// A <details> panel holding a form with errors opens by itself (data-open-on-error is set
// by the template when the form failed), so that the message is seen next to the fields.
document.querySelectorAll("details[data-open-on-error]").forEach((panel) => { panel.open = true; });

// "Imprimer" buttons on the printable pages.
document.addEventListener("click", (event) => {
  if (event.target.closest("[data-print]")) window.print();
});
