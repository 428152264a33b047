// Beleidszoeker: the original PDF page in the source viewer, drawn with PDF.js (served from
// web/node_modules, never a CDN), with boxes over the cited words and paging. Without
// JavaScript, or when the PDF cannot be shown, the cleaned text stays the view.
const view = document.getElementById("origineel");
if (view) start(view).catch(function (err) { fallBack(view, err); });

async function start(view) {
  const d = view.dataset;
  const lib = await import(d.lib);
  lib.GlobalWorkerOptions.workerSrc = d.worker;
  const pdf = await lib.getDocument({
    url: d.file,
    isEvalSupported: false, // the CSP forbids eval; PDF.js then interprets fonts instead
    standardFontDataUrl: d.fonts,
    cMapUrl: d.cmaps,
    cMapPacked: true,
    wasmUrl: d.wasm,
    iccUrl: d.iccs,
  }).promise;

  const boxes = JSON.parse(d.boxes || "[]");
  const stage = view.querySelector(".pdf-stage");
  const canvas = stage.querySelector("canvas");
  const label = view.querySelector(".pdf-label");
  const prev = view.querySelector(".pdf-prev");
  const next = view.querySelector(".pdf-next");
  const text = document.getElementById("tekst");
  const switcher = document.querySelector(".view-switch");
  const toggle = document.getElementById("wissel-weergave");
  const title = document.getElementById("doc-title").textContent;
  let current = Math.min(Math.max(parseInt(d.page, 10) || 1, 1), pdf.numPages);
  let rendering = null;

  async function show(number) {
    current = number;
    label.textContent = "Pagina " + number + " van " + pdf.numPages;
    prev.disabled = number <= 1;
    next.disabled = number >= pdf.numPages;
    view.dataset.shown = "";
    if (rendering) rendering.cancel();
    const page = await pdf.getPage(number);
    const base = page.getViewport({ scale: 1 });
    const scale = (stage.clientWidth || base.width) / base.width;
    const viewport = page.getViewport({ scale: scale * (window.devicePixelRatio || 1) });
    canvas.width = Math.floor(viewport.width);
    canvas.height = Math.floor(viewport.height);
    canvas.setAttribute("aria-label", "Pagina " + number + " van " + title);
    rendering = page.render({ canvasContext: canvas.getContext("2d"), viewport: viewport });
    try {
      await rendering.promise;
    } catch (err) {
      if (err && err.name === "RenderingCancelledException") return;
      throw err;
    }
    stage.querySelectorAll(".pdf-mark").forEach(function (m) { m.remove(); });
    boxes.filter(function (b) { return b[0] === number; }).forEach(function (b) {
      const mark = document.createElement("div");
      mark.className = "pdf-mark";
      // Boxes are fractions of the page; small padding keeps the letters inside.
      mark.style.left = (b[1] * 100 - 0.3) + "%";
      mark.style.top = (b[2] * 100 - 0.2) + "%";
      mark.style.width = ((b[3] - b[1]) * 100 + 0.6) + "%";
      mark.style.height = ((b[4] - b[2]) * 100 + 0.4) + "%";
      stage.appendChild(mark);
    });
    view.dataset.shown = String(number); // for tests and screenshots: this page is drawn
  }

  const jump = document.querySelector(".jump a");
  function showOriginal(on) {
    view.hidden = !on;
    text.hidden = on;
    if (jump) jump.hash = on ? "#origineel" : "#citaat"; // "to the marked text" follows the view
    toggle.textContent = on ? "Toon de opgeschoonde tekst" : "Toon de originele pagina";
    toggle.setAttribute("aria-pressed", String(!on));
  }

  prev.addEventListener("click", function () { if (current > 1) show(current - 1); });
  next.addEventListener("click", function () { if (current < pdf.numPages) show(current + 1); });
  toggle.addEventListener("click", function () { showOriginal(view.hidden); });
  switcher.hidden = false;
  showOriginal(true);
  await show(current);
  const first = stage.querySelector(".pdf-mark");
  if (first) first.scrollIntoView({ block: "center" });
}

function fallBack(view, err) {
  // The cleaned text is still there; say why the page is not shown.
  view.hidden = true;
  const text = document.getElementById("tekst");
  if (text) text.hidden = false;
  const switcher = document.querySelector(".view-switch");
  if (switcher) switcher.hidden = true;
  console.warn("Beleidszoeker: de originele pagina kan niet worden getoond:", err);
}
