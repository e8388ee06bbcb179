// Start the pagefind search box once its script has loaded (kept out of the HTML for the CSP).
window.addEventListener("DOMContentLoaded", function () {
  if (typeof PagefindUI === "undefined") return;
  new PagefindUI({ element: "#search", showSubResults: true, showImages: false, autofocus: true });
  // Pagefind labels its box only with a title; the page's visible heading names it instead.
  var input = document.querySelector("#search .pagefind-ui__search-input");
  if (input) input.setAttribute("aria-labelledby", "search-heading");
});
