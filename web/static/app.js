// Beleidszoeker: htmx swaps in answers and error pages by itself; this only covers the
// case where no answer arrives at all (server unreachable), which would otherwise look
// like nothing happened.
document.addEventListener("htmx:sendError", function () {
  var box = document.getElementById("resultaten");
  if (!box) return;
  var p = document.createElement("p");
  p.className = "notice error";
  p.setAttribute("role", "alert");
  p.textContent = "Geen verbinding met Beleidszoeker. Controleer uw netwerk en probeer het opnieuw.";
  box.replaceChildren(p);
});

// In the viewer, scroll the section list to the section holding the cited text.
document.addEventListener("DOMContentLoaded", function () {
  var current = document.querySelector(".toc a[aria-current]");
  if (!current) return;
  var list = current.closest("ol");
  list.scrollTop = current.offsetTop - list.offsetTop - list.clientHeight / 3;
});
