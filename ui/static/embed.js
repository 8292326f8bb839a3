// The embed page's chat: posts to api/ask/stream and renders the server-sent events.
// A page for another collection (/embed?collection=NAME) names it in <body data-collection>.
const COLLECTION = document.body?.dataset.collection || "";
// Served below the top (an LTI launch's /lti/chat), the page's paths start with data-root ("../").
const ROOT = document.body?.dataset.root || "";
// An LTI launch's session token, sent with every question; its reading list limits the answers.
const SESSION = document.body?.dataset.session || "";
const DOCUMENTS = (document.body?.dataset.documents || "").split(",").filter(Boolean);
const API = ROOT + (COLLECTION ? `api/collections/${encodeURIComponent(COLLECTION)}` : "api");
const READ_QUERY = COLLECTION ? `?collection=${encodeURIComponent(COLLECTION)}` : "";
// All text from the server or the reader goes into the page through text nodes
// (never innerHTML), so a quotation or a question cannot inject markup.
"use strict";

(() => {
  const $ = (id) => document.getElementById(id);
  const log = $("log");
  const intro = $("intro");
  const form = $("ask-form");
  const input = $("question");
  const askButton = $("ask-button");
  const drawer = $("drawer");
  const drawerBody = $("drawer-body");
  const toggle = $("sources-toggle");
  const count = $("sources-count");

  const MAX_HISTORY = 40;
  // Replies to what is not a question about the text (a hello, a request for a joke): plain
  // messages in the conversation's voice, not refusals (as ui/render.py's CONVERSATIONAL).
  const CONVERSATIONAL = new Set(["greeting", "request"]);
  // The same width as embed.css's: below it the drawer covers the chat, so it is a modal dialog
  // (the chat behind it inert); above it the drawer sits beside the chat, which stays usable.
  const covers = window.matchMedia("(max-width: 600px)");
  const history = [];
  let turn = 0;
  let sources = 0;
  let busy = false;
  let opener = null;
  let newest = null; // the latest question's message, kept in view while its answer arrives
  let following = false; // false once the reader scrolls the conversation themselves

  /** Creates an element; strings among the children become text nodes. */
  function el(tag, attrs = {}, ...children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attrs)) node.setAttribute(name, value);
    node.append(...children);
    return node;
  }

  function addMessage(role, ...children) {
    const message = el("div", { class: `message ${role}` }, ...children);
    log.append(message);
    return message;
  }

  /** Scrolls the conversation towards the latest question at its top, so that the question and
   * as much of its answer as fits are in view; never further, so a long answer is read from its
   * start, and not once the reader has scrolled. The log's own scrollTop, not scrollIntoView:
   * that would scroll the portal's page around the frame too. */
  function reveal() {
    if (!newest || !following) return;
    const padding = parseFloat(getComputedStyle(log).paddingTop) || 0;
    const target = log.scrollTop + newest.getBoundingClientRect().top - log.getBoundingClientRect().top - padding;
    if (target > log.scrollTop) log.scrollTop = target;
  }

  function sourceId(turnNumber, marker) {
    return `e-${turnNumber}-${marker}`;
  }

  /** Text in double quotation marks, its own turned into single ones (as ui/render.py's quoted()):
   * “… ‘so-called’ …”, never “… “so-called” …”. */
  function quoted(text) {
    const inner = text.replace(/"([^"]*)"/g, "‘$1’").replaceAll("“", "‘").replaceAll("”", "’");
    return `“${inner}”`;
  }

  /** "p. 3" for a quote from a paged document (a PDF), "" for an unpaged one. */
  function pageLabel(citation) {
    return citation.page ? `p. ${citation.page}` : "";
  }

  /** Where a quotation is, in words: "Title, p. 3, paragraph 9". */
  function place(citation) {
    return [citation.title, pageLabel(citation), `paragraph ${citation.paragraph}`].filter(Boolean).join(", ");
  }

  function markerButton(turnNumber, marker, citation) {
    const button = el(
      "button",
      {
        type: "button",
        class: "marker",
        "aria-label": citation ? `Source ${marker}: ${place(citation)}` : `Source ${marker}`,
        "aria-controls": "drawer",
      },
      `[${marker}]`,
    );
    button.addEventListener("click", () => openDrawer(sourceId(turnNumber, marker), button));
    return button;
  }

  function quoteMark(turnNumber, citation) {
    const link = el(
      "a",
      {
        class: "quote-link",
        href: `${ROOT}read/${encodeURIComponent(citation.doc_id)}${READ_QUERY}#${citation.anchor}`,
        target: "_blank",
        rel: "noopener",
        "aria-label": `Quotation ${citation.marker}: open it in ${quoted(citation.title)} (new tab)`,
      },
      `[${citation.marker}]`,
    );
    return el("mark", { id: sourceId(turnNumber, citation.marker), tabindex: "-1" }, link, " ", citation.quote);
  }

  /** The passage as nodes, each quoted sentence in a mark that a marker [n] can bring into view. */
  function highlighted(turnNumber, citations) {
    const text = citations[0].passage;
    const found = citations
      .filter((c) => text.includes(c.quote))
      .map((c) => [text.indexOf(c.quote), c])
      .sort((a, b) => a[0] - b[0]);
    const nodes = [];
    let cursor = 0;
    for (const [at, citation] of found) {
      nodes.push(text.slice(cursor, at), quoteMark(turnNumber, citation));
      cursor = at + citation.quote.length;
    }
    nodes.push(text.slice(cursor));
    for (const citation of citations) {
      if (!text.includes(citation.quote)) nodes.push(" ", quoteMark(turnNumber, citation));
    }
    return nodes;
  }

  /** The drawer's section for one answer; its passages are shown once, with all their quotes. */
  function sourceGroup(turnNumber, question) {
    drawerBody.querySelector(".empty")?.remove();
    const list = el("ul", { class: "source-list" });
    drawerBody.prepend(
      el(
        "section",
        { class: "group", "aria-label": `Sources of answer ${turnNumber}` },
        el("h3", {}, `Answer ${turnNumber}: `, question),
        list,
      ),
    );
    return { turnNumber, list, passages: new Map() };
  }

  function addSource(group, citation) {
    let passage = group.passages.get(citation.chunk_id);
    if (!passage) {
      passage = { quote: el("blockquote"), citations: [] };
      group.list.append(
        el(
          "li",
          { class: "source" },
          el(
            "div",
            { class: "source-head" },
            el("cite", { class: "source-title" }, citation.title),
            " ",
            el("span", {}, [pageLabel(citation), `paragraph ${citation.paragraph}`].filter(Boolean).join(" · ")),
          ),
          passage.quote,
        ),
      );
      group.passages.set(citation.chunk_id, passage);
    }
    passage.citations.push(citation);
    passage.quote.replaceChildren(...highlighted(group.turnNumber, passage.citations));
    sources += 1;
    count.textContent = String(sources);
  }

  function showDrawer() {
    if (covers.matches) drawer.showModal();
    else drawer.show();
  }

  function openDrawer(targetId, from) {
    opener = from || toggle;
    if (!drawer.open) showDrawer();
    toggle.setAttribute("aria-expanded", "true");
    const target = targetId ? $(targetId) : null;
    for (const item of drawerBody.querySelectorAll("mark.active")) item.classList.remove("active");
    if (target) {
      target.classList.add("active");
      target.scrollIntoView({ block: "nearest" });
      target.focus({ preventScroll: true });
    } else {
      $("drawer-close").focus();
    }
  }

  function closeDrawer() {
    if (!drawer.open) return;
    drawer.close();
    toggle.setAttribute("aria-expanded", "false");
    (opener?.isConnected ? opener : toggle).focus();
  }

  /** Reads a text/event-stream body and calls onEvent(name, data) for each event. */
  async function readEvents(body, onEvent) {
    const reader = body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = "";
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += value;
      let end;
      while ((end = buffer.indexOf("\n\n")) >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        let name = "message";
        const data = [];
        for (const line of block.split("\n")) {
          if (line.startsWith("event:")) name = line.slice(6).trim();
          else if (line.startsWith("data:")) data.push(line.slice(5).trim());
        }
        if (data.length) onEvent(name, JSON.parse(data.join("\n")));
      }
    }
  }

  /** When an answer quotes several documents, each sentence names its sources: " (Title)". */
  function nameSources(sentences) {
    for (const [last, titles] of sentences) {
      if (titles.length) last.after(" ", el("span", { class: "from" }, `(${titles.join("; ")})`));
    }
  }

  /** What the reply is (the answer contract's kind); an older server's answer has none. */
  function kindOf(data) {
    return data.kind || (data.refused ? "refusal" : "answer");
  }

  function showProblem(bubble, message) {
    bubble.className = "message notice";
    bubble.removeAttribute("aria-busy");
    bubble.replaceChildren(el("strong", {}, "Not sent. "), message);
  }

  async function ask(question) {
    question = question.trim();
    if (!question || busy) return;
    busy = true;
    askButton.disabled = true;
    intro.hidden = true;
    turn += 1;
    const turnNumber = turn;
    newest = addMessage("user", question);
    following = true;
    const bubble = addMessage("assistant", "Looking for the passages that answer this…");
    bubble.setAttribute("aria-busy", "true");
    reveal();
    try {
      const response = await fetch(`${API}/ask/stream`, {
        method: "POST",
        headers: {
          "Content-Type": "application/json",
          Accept: "text/event-stream",
          ...(SESSION ? { "X-Assistant-Session": SESSION } : {}),
        },
        // Only the recent turns: the server keeps no more than its history window anyway.
        body: JSON.stringify({
          question,
          history: history.slice(-MAX_HISTORY),
          ...(DOCUMENTS.length ? { documents: DOCUMENTS } : {}),
        }),
      });
      if (!response.ok) {
        const problem = await response.json().catch(() => null);
        showProblem(bubble, problem?.error?.message || `The server answered ${response.status}.`);
        return;
      }
      input.value = "";
      let group = null;
      const cited = new Map();
      const sentences = []; // [the sentence's last node, the titles of its sources]
      let draft = null; // a language model's text as it is written, until the verified answer
      bubble.replaceChildren();
      await readEvents(response.body, (name, data) => {
        if (name === "token") {
          if (!draft) {
            draft = el("span", { class: "draft" });
            bubble.replaceChildren(el("span", { class: "checking" }, "Being written and checked against the text… "), draft);
          }
          draft.append(data.text);
          reveal();
        } else if (name === "sentence") {
          if (draft) {
            bubble.replaceChildren();
            draft = null;
          }
          bubble.dataset.kind = kindOf(data);
          // A greeting or a request quotes nothing and is not about the text: no sources to list.
          if (data.citations.length || !CONVERSATIONAL.has(bubble.dataset.kind)) {
            group ??= sourceGroup(turnNumber, question);
          }
          if (bubble.childNodes.length) bubble.append(" ");
          bubble.append(data.text);
          for (const citation of data.citations) {
            addSource(group, citation);
            cited.set(citation.marker, citation);
          }
          for (const marker of data.markers) {
            bubble.append(" ", markerButton(turnNumber, marker, cited.get(marker)));
          }
          sentences.push([bubble.lastChild, data.sources || []]);
          reveal();
        } else if (name === "final") {
          bubble.dataset.kind = kindOf(data);
          if (data.refused && !CONVERSATIONAL.has(bubble.dataset.kind)) {
            bubble.className = "message refusal";
            bubble.prepend(el("strong", { class: "refusal-title" }, "Not answered from the text. "));
          }
          if (new Set(data.citations.map((c) => c.doc_id)).size > 1) nameSources(sentences);
          // Quotes that may not answer what was asked say so first.
          if (data.caveat) bubble.prepend(el("span", { class: "caveat", role: "note" }, data.caveat));
          // Why a language model's answer was replaced by quotations, when it was.
          if (data.notice) bubble.append(el("span", { class: "answer-notice" }, data.notice));
          history.push({ role: "user", content: data.question }, { role: "assistant", content: data.answer });
        } else if (name === "error") {
          showProblem(bubble, data.error.message);
        }
      });
    } catch (error) {
      showProblem(bubble, "The assistant could not be reached; check the connection and try again.");
    } finally {
      reveal(); // a refusal's title, a notice or a problem changes the answer's height too
      bubble.removeAttribute("aria-busy");
      busy = false;
      askButton.disabled = false;
    }
  }

  function newConversation() {
    history.length = 0;
    newest = null;
    turn = 0;
    sources = 0;
    count.textContent = "0";
    for (const message of log.querySelectorAll(".message")) message.remove();
    drawerBody.replaceChildren(el("p", { class: "empty" }, "The quotations behind each answer appear here."));
    intro.hidden = false;
    input.focus();
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    ask(input.value);
  });
  input.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey) {
      event.preventDefault();
      form.requestSubmit();
    }
  });
  for (const example of document.querySelectorAll(".example")) {
    example.addEventListener("click", () => ask(example.textContent));
  }
  toggle.addEventListener("click", () => (drawer.open ? closeDrawer() : openDrawer(null, toggle)));
  $("drawer-close").addEventListener("click", closeDrawer);
  $("new-chat").addEventListener("click", newConversation);
  // Escape closes the drawer in both forms (a dialog opened with show() ignores it natively);
  // the modal's own cancel goes the same way, so focus always returns to the opener.
  drawer.addEventListener("keydown", (event) => {
    if (event.key === "Escape") {
      event.preventDefault();
      closeDrawer();
    }
  });
  drawer.addEventListener("cancel", (event) => {
    event.preventDefault();
    closeDrawer();
  });
  // A frame resized across the width where the drawer starts to cover the chat: the open
  // drawer changes form (modal or beside the chat), keeping the reader's place in it.
  covers.addEventListener("change", () => {
    if (!drawer.open) return;
    const focused = document.activeElement;
    drawer.close();
    showDrawer();
    if (focused instanceof HTMLElement && drawer.contains(focused)) focused.focus({ preventScroll: true });
  });
  // The reader scrolling the conversation takes over from reveal() until the next question.
  for (const kind of ["wheel", "touchmove"]) {
    log.addEventListener(kind, () => (following = false), { passive: true });
  }
  log.addEventListener("keydown", (event) => {
    if (["ArrowUp", "ArrowDown", "PageUp", "PageDown", "Home", "End", " "].includes(event.key)) following = false;
  });
})();
