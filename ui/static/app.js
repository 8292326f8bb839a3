// The chat page: activating a marker [n] in an answer brings its source into view.
// Markers are links to "#src-<turn>-<n>"; handling the click here (capture phase)
// also opens a folded group of older sources and moves focus there for screen readers;
// Escape brings focus back to the marker. The skip link puts focus in the question box.
"use strict";

(() => {
  const reduceMotion = window.matchMedia("(prefers-reduced-motion: reduce)").matches;
  let lastMarker = null;

  function activate(marker) {
    const source = document.getElementById(decodeURIComponent(marker.hash.slice(1)));
    if (!source) return false;
    const group = source.closest("details");
    if (group) group.open = true;
    for (const old of document.querySelectorAll(".qa-quote.is-active")) old.classList.remove("is-active");
    source.classList.add("is-active");
    source.scrollIntoView({ behavior: reduceMotion ? "auto" : "smooth", block: "center" });
    source.focus({ preventScroll: true });
    return true;
  }

  document.addEventListener(
    "click",
    (event) => {
      const target = event.target instanceof Element ? event.target : null;
      const marker = target?.closest("a.qa-marker");
      if (marker && activate(marker)) {
        lastMarker = marker;
        event.preventDefault();
        event.stopPropagation();
      }
      // The skip link's target is Gradio's box around the textarea, which cannot take focus itself.
      const question = target?.closest("a.qa-skip") ? document.querySelector("#qa-question textarea") : null;
      if (question) {
        event.preventDefault();
        question.focus();
      }
    },
    true,
  );

  // Escape in the sources panel goes back to the marker that led there.
  document.addEventListener("keydown", (event) => {
    const inSources = event.target instanceof Element && event.target.closest("#qa-sources");
    if (event.key === "Escape" && inSources && lastMarker?.isConnected) {
      lastMarker.focus();
      lastMarker.scrollIntoView({ block: "center" });
    }
  });
})();
