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

// Picking days on a calendar. Each free day is a link to the booking form for that day alone
// (which is all there is without JavaScript). Here a first choice only marks the first day; the
// second (the same day, or a later one) opens the form for the range. Dragging across days with
// a mouse or a finger does the same in one gesture. Escape forgets the first day.
(() => {
  let first = null;

  const rangeUrl = (from, to) => {
    const [start, end] = from.dataset.pickDay <= to.dataset.pickDay ? [from, to] : [to, from];
    const url = new URL(start.href, window.location.href);
    url.searchParams.set("end", new URL(end.href, window.location.href).searchParams.get("end"));
    return url.toString();
  };
  const sameRow = (a, b) => a.dataset.pickResource === b.dataset.pickResource;
  const forget = () => {
    if (first) first.closest("td")?.classList.remove("picked");
    first = null;
  };
  const say = (calendar, text) => {
    const status = calendar.querySelector("[data-pick-status]");
    if (status) status.textContent = text;
  };

  document.addEventListener("click", (event) => {
    const day = event.target.closest("[data-pick-range] a[data-pick-day]");
    if (!day) return;
    event.preventDefault();
    if (first && sameRow(first, day)) {
      window.location.assign(rangeUrl(first, day));
      return;
    }
    forget();
    first = day;
    day.closest("td")?.classList.add("picked");
    const calendar = day.closest("[data-pick-range]");
    const label = day.querySelector(".visually-hidden")?.textContent.replace(/^[\s—-]+/, "") || day.dataset.pickDay;
    say(calendar, (calendar.dataset.pickFirst || "").replace("{day}", label));
  });

  document.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && first) forget();
  });

  // Dragging: pressed on one free day, released on another of the same row.
  let pressed = null;
  document.addEventListener("pointerdown", (event) => {
    pressed = event.target.closest("[data-pick-range] a[data-pick-day]");
  });
  document.addEventListener("pointerup", (event) => {
    const target = document.elementFromPoint(event.clientX, event.clientY);
    const released = target?.closest("[data-pick-range] a[data-pick-day]");
    if (pressed && released && released !== pressed && sameRow(pressed, released)) {
      event.preventDefault();
      window.location.assign(rangeUrl(pressed, released));
    }
    pressed = null;
  });
})();

// A field's error message is read with the field: tied to it by aria-describedby, the field
// marked invalid. (The message is shown next to the field whatever the reader.)
document.querySelectorAll(".invalid-feedback").forEach((message, index) => {
  const field = message.parentElement?.querySelector("input:not([type=hidden]), select, textarea");
  if (!field) return;
  message.id ||= `erreur-${index + 1}`;
  const described = (field.getAttribute("aria-describedby") || "").split(" ").filter(Boolean);
  if (!described.includes(message.id)) field.setAttribute("aria-describedby", [...described, message.id].join(" "));
  field.setAttribute("aria-invalid", "true");
});
