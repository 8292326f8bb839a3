// The chat page: activating a marker [n] in an answer brings its source into view.
// Markers are links to "#src-<turn>-<n>"; handling the click here (capture phase)
// also opens a folded group of older sources and moves focus there for screen readers;
// Escape brings focus back to the marker. The skip link puts focus in the question box.
"use strict";

(() => {
  const reduceMotion = window.matchMedia("(prefers-reduced-motion: reduce)").matches;
  let lastMarker = null;

  // Beside the chat (wide screens) the panel scrolls on its own: only it scrolls to the quote, so
  // the question being read stays where the reader left it. On a phone the panel is part of the page.
  function scrollsOnItsOwn(panel) {
    return ["auto", "scroll"].includes(getComputedStyle(panel).overflowY);
  }

  // The quote in the part of the panel below its sticky title and its answer's question, centred
  // when it fits (and left alone when it is already there). The page moves only as far as needed
  // to show the panel's top and the quote, when the panel is partly off the screen.
  function revealInPanel(panel, source) {
    const behavior = reduceMotion ? "auto" : "smooth";
    const box = panel.getBoundingClientRect();
    const title = panel.querySelector(".qa-panel-title");
    const summary = source.closest("details")?.querySelector(":scope > summary");
    const inside = box.top + panel.clientTop;
    const top = inside + (title?.offsetHeight ?? 0) + (summary?.offsetHeight ?? 0);
    const bottom = inside + panel.clientHeight;
    const quote = source.getBoundingClientRect();
    let shift = 0;
    if (quote.top < top || quote.bottom > bottom) {
      const room = bottom - top;
      shift = quote.height >= room ? quote.top - top : quote.top - top - (room - quote.height) / 2;
      const limit = panel.scrollHeight - panel.clientHeight;
      shift = Math.max(-panel.scrollTop, Math.min(shift, limit - panel.scrollTop));
      panel.scrollBy({ top: shift, behavior });
    }
    const quoteBottom = Math.min(quote.bottom - shift, bottom);
    let page = 0;
    if (box.top < 0) page = box.top;
    else if (quoteBottom > window.innerHeight) page = Math.min(quoteBottom - window.innerHeight, box.top);
    if (page) window.scrollBy({ top: page, behavior });
  }

  function activate(marker) {
    const source = document.getElementById(decodeURIComponent(marker.hash.slice(1)));
    if (!source) return false;
    const group = source.closest("details");
    if (group) group.open = true;
    for (const old of document.querySelectorAll(".qa-quote.is-active")) old.classList.remove("is-active");
    source.classList.add("is-active");
    const panel = source.closest("#qa-sources");
    if (panel && scrollsOnItsOwn(panel)) {
      revealInPanel(panel, source);
    } else {
      source.scrollIntoView({ behavior: reduceMotion ? "auto" : "smooth", block: "center" });
    }
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

  // The browser tab is named like the page's heading. Gradio names it once, from the page as the
  // server built it; the heading is redrawn when the collection or its documents change.
  function nameTab() {
    const heading = document.querySelector("#qa-header h1")?.textContent?.trim();
    if (heading && document.title !== heading) document.title = heading;
  }
  new MutationObserver(nameTab).observe(document.documentElement, {
    childList: true,
    subtree: true,
    characterData: true,
  });
})();
