// The course's one explorer renderer: controls, a canvas and readouts, drawn from numbers.
//
// JupyterLab runs it through anywidget (coursekit/widgets/_common.py); the website runs the
// same file with a small model of its own (site_src/_static/explorer-site.js). The model has
// three values: `spec` (the controls, texts and any precomputed table of frames), `values`
// (the controls' positions; a range control holds an index into its grid) and `frame` (the
// numbers for the current position, sent by the kernel or read from the site's files).
// Nothing here computes the math: it only lays out, draws and formats numbers it is given.

const CSS_ID = "coursekit-explorer-css";

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "class") node.className = v;
    else if (k === "text") node.textContent = v;
    else node.setAttribute(k, v);
  }
  for (const c of children) node.append(c);
  return node;
}

export function fmt(x, digits, kind = "fixed") {
  if (x === null || x === undefined || Number.isNaN(x)) return "n/a";
  if (kind === "pct") {
    const p = 100 * x;
    if (p !== 0 && Math.abs(p) < 0.1) return p.toExponential(0).replace("e", "e") + "%";
    return p.toFixed(digits) + "%";
  }
  if (kind === "sig") {
    if (Math.abs(x) >= 1e5 || (x !== 0 && Math.abs(x) < 1e-3)) return x.toExponential(digits - 1);
    return Number(x.toPrecision(digits)).toString();
  }
  if (kind === "signed") return (x >= 0 ? "+" : "") + x.toFixed(digits);
  return x.toFixed(digits);
}

function keyOf(values) {
  return JSON.stringify(Object.keys(values).sort().map(k => [k, values[k]]));
}

// --- drawing helpers -------------------------------------------------------------------------

function setupCanvas(canvas, width, height) {
  const ratio = window.devicePixelRatio || 1;
  const w = Math.round(width * ratio), h = Math.round(height * ratio);
  if (canvas.width !== w || canvas.height !== h) {
    canvas.width = w;
    canvas.height = h;
  }
  canvas.style.width = width + "px";
  canvas.style.height = height + "px";
  const ctx = canvas.getContext("2d");
  ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
  ctx.clearRect(0, 0, width, height);
  ctx.fillStyle = "#fff";
  ctx.fillRect(0, 0, width, height);
  ctx.font = "11px sans-serif";
  ctx.textBaseline = "middle";
  return ctx;
}

function axes(ctx, box, xTicks, yTicks, xmap, ymap, xlabel, ylabel) {
  ctx.strokeStyle = "#333";
  ctx.lineWidth = 1;
  ctx.strokeRect(box.x + 0.5, box.y + 0.5, box.w, box.h);
  ctx.fillStyle = "#222";
  ctx.textAlign = "center";
  for (const [v, t] of xTicks) {
    const x = xmap(v);
    ctx.beginPath(); ctx.moveTo(x, box.y + box.h); ctx.lineTo(x, box.y + box.h + 3); ctx.stroke();
    ctx.fillText(t, x, box.y + box.h + 10);
  }
  ctx.textAlign = "right";
  for (const [v, t] of yTicks) {
    const y = ymap(v);
    ctx.beginPath(); ctx.moveTo(box.x - 3, y); ctx.lineTo(box.x, y); ctx.stroke();
    ctx.fillText(t, box.x - 5, y);
  }
  ctx.textAlign = "center";
  if (xlabel) ctx.fillText(xlabel, box.x + box.w / 2, box.y + box.h + 23);
  if (ylabel) {
    ctx.save();
    ctx.translate(box.x - 34, box.y + box.h / 2);
    ctx.rotate(-Math.PI / 2);
    ctx.fillText(ylabel, 0, 0);
    ctx.restore();
  }
}

function niceTick(v) {
  if (v === 0) return "0";
  const a = Math.abs(v);
  if (a >= 1e4 || a < 1e-2) return v.toExponential(0);
  return Number(v.toPrecision(3)).toString();
}

// A reference line (ReLU beside LeakyReLU, 1/K beside softmax): the palette's last colour, half strength.
function reference(spec) {
  const c = spec.colors[spec.colors.length - 1];
  return /^#[0-9a-f]{6}$/i.test(c) ? c + "8c" : c;
}

// --- chapter 05: per-layer histograms ----------------------------------------------------------

function drawHistograms(canvas, spec, frame, width) {
  const layers = frame.layers;
  const Y_MAX = spec.y_max, Y_TICKS = spec.y_ticks;  // coursekit.widgets.histogram's, as the static figures
  const cols = Math.max(1, Math.min(layers.length, 5, Math.floor((width - 10) / 165)));
  const rows = Math.ceil(layers.length / cols);
  const panelW = Math.floor((width - 10) / cols), panelH = 150;
  const ctx = setupCanvas(canvas, width, rows * panelH + 6);
  const bar = spec.colors[0], over = spec.colors[1];
  layers.forEach((L, i) => {
    const px = 10 + (i % cols) * panelW, py = Math.floor(i / cols) * panelH;
    const box = {x: px + 42, y: py + 20, w: panelW - 56, h: panelH - 64};
    const xmap = v => box.x + (v - L.lo) / (L.hi - L.lo) * box.w;
    const ymap = f => box.y + box.h - Math.sqrt(Math.min(Math.max(f, 0), Y_MAX) / Y_MAX) * box.h;
    const total = frame.total, n = L.counts.length;
    ctx.fillStyle = bar;
    for (let b = 0; b < n; b++) {
      const f = L.counts[b] / total;
      if (f <= 0) continue;
      const x0 = box.x + b / n * box.w, x1 = box.x + (b + 1) / n * box.w, y = ymap(f);
      ctx.fillRect(x0, y, x1 - x0, box.y + box.h - y);
    }
    if (L.beyond > 5e-4) {  // the share of values past the axis: an overflow bar at the right end
      const y = ymap(L.beyond);
      ctx.fillStyle = over;
      ctx.fillRect(box.x + box.w + 2, y, 6, box.y + box.h - y);
    }
    const mid = (L.lo + L.hi) / 2;
    axes(ctx, box, [[L.lo, niceTick(L.lo)], [mid, niceTick(mid)], [L.hi, niceTick(L.hi)]],
         i % cols === 0 ? Y_TICKS.map(t => [t, String(t)]) : Y_TICKS.map(t => [t, ""]), xmap, ymap,
         spec.xlabel, i % cols === 0 ? "share per bin" : "");
    ctx.textAlign = "left";
    ctx.fillStyle = "#222";
    ctx.font = "bold 11px sans-serif";
    ctx.fillText(`layer ${i + 1}`, box.x, py + 10);
    ctx.font = "11px sans-serif";
  });
}

function histogramAlt(spec, frame, values) {
  const parts = frame.layers.map((L, i) =>
    `layer ${i + 1}: mean ${fmt(L.mean, 3, "signed")}, std ${fmt(L.std, 3, "sig")}, ` +
    `${spec.flatWord} ${fmt(L.flat, 1, "pct")}, units alike ${fmt(L.alike, 2)}` +
    (L.beyond > 5e-4 ? `, ${fmt(L.beyond, 1, "pct")} beyond the axis` : ""));
  return `Histograms of the ${frame.layers.length} layers' ${frame.activation} outputs ` +
    `(${frame.header}). ` + parts.join("; ") + ".";
}

// --- chapter 03: LeakyReLU and its derivative -----------------------------------------------------

function drawSlope(canvas, spec, frame, width) {
  const twoCols = width >= 520;
  const pw = twoCols ? Math.floor(width / 2) : width, ph = 200;
  const ctx = setupCanvas(canvas, width, twoCols ? ph : 2 * ph);
  const X = spec.x;
  const panels = [
    {title: "LeakyReLU f(x)", ylo: -2.2, yhi: 4.2, ylabel: "f(x)"},
    {title: "derivative f′(x)", ylo: -0.1, yhi: 1.15, ylabel: "f′(x)"},
  ];
  panels.forEach((P, k) => {
    const ox = twoCols ? k * pw : 0, oy = twoCols ? 0 : k * ph;
    const box = {x: ox + 48, y: oy + 22, w: pw - 64, h: ph - 62};
    const xmap = v => box.x + (v + 4) / 8 * box.w;
    const ymap = v => box.y + box.h - (v - P.ylo) / (P.yhi - P.ylo) * box.h;
    const yt = k === 0 ? [-2, 0, 2, 4] : [0, 0.5, 1];
    axes(ctx, box, [-4, -2, 0, 2, 4].map(v => [v, String(v)]), yt.map(v => [v, String(v)]), xmap, ymap, "x", P.ylabel);
    ctx.save();
    ctx.beginPath(); ctx.rect(box.x, box.y, box.w, box.h); ctx.clip();
    ctx.lineWidth = 2.5;
    ctx.strokeStyle = spec.colors[k];
    ctx.beginPath();
    if (k === 0) {
      ctx.strokeStyle = reference(spec); ctx.setLineDash([2, 3]); ctx.lineWidth = 1.5;  // ReLU for reference
      ctx.moveTo(xmap(-4), ymap(0)); ctx.lineTo(xmap(0), ymap(0)); ctx.lineTo(xmap(4), ymap(4)); ctx.stroke();
      ctx.setLineDash([]); ctx.lineWidth = 2.5; ctx.strokeStyle = spec.colors[0];
      ctx.beginPath();
      X.forEach((x, i) => (i ? ctx.lineTo(xmap(x), ymap(frame.f[i])) : ctx.moveTo(xmap(x), ymap(frame.f[i]))));
    } else {
      ctx.moveTo(xmap(-4), ymap(frame.d[0])); ctx.lineTo(xmap(0), ymap(frame.d[0]));
      ctx.moveTo(xmap(0), ymap(frame.d[1])); ctx.lineTo(xmap(4), ymap(frame.d[1]));
    }
    ctx.stroke();
    ctx.restore();
    ctx.fillStyle = "#222"; ctx.textAlign = "left"; ctx.font = "bold 11px sans-serif";
    ctx.fillText(k === 0 ? `${P.title}, a = ${fmt(frame.a, 2)}` : (pw >= 380 ? `${P.title}: a for x < 0, 1 for x > 0` : P.title), box.x, oy + 10);
    ctx.font = "11px sans-serif";
  });
}

function slopeAlt(spec, frame) {
  return `LeakyReLU with negative slope a = ${fmt(frame.a, 2)}: f(x) = a·x for x < 0 and x for x > 0, ` +
    `its derivative a left of 0 and 1 right of 0. For the layer: ${fmt(frame.negative_units, 1, "pct")} of units ` +
    `negative on every input, ${fmt(frame.zero_grad_units, 1, "pct")} with zero gradient everywhere, ` +
    `mean f′(z) ${fmt(frame.mean_grad, 3)}.`;
}

// --- chapter 06: softmax temperature ----------------------------------------------------------

function drawTemperature(canvas, spec, frame, width) {
  const twoCols = width >= 560;
  const pw = twoCols ? Math.floor(width * 0.55) : width, qw = twoCols ? width - pw : width, ph = 220;
  const ctx = setupCanvas(canvas, width, twoCols ? ph : 2 * ph);
  // left: the probabilities, with T = 1 outlined and the uniform 1/K dotted
  const K = frame.probs.length;
  let box = {x: 48, y: 22, w: pw - 64, h: ph - 62};
  let xmap = i => box.x + (i + 0.5) / K * box.w;
  let ymap = p => box.y + box.h - p * box.h;
  axes(ctx, box, spec.labels.map((t, i) => [i, t]), [0, 0.25, 0.5, 0.75, 1].map(v => [v, String(v)]), xmap, ymap, "", "probability");
  const bw = box.w / K * 0.7;
  frame.probs.forEach((p, i) => {
    ctx.fillStyle = spec.colors[0];
    ctx.fillRect(xmap(i) - bw / 2, ymap(p), bw, box.y + box.h - ymap(p));
  });
  ctx.strokeStyle = spec.colors[1]; ctx.lineWidth = 1.5; ctx.setLineDash([5, 3]);
  spec.reference.forEach((p, i) => { ctx.strokeRect(xmap(i) - bw / 2, ymap(p), bw, box.y + box.h - ymap(p)); });
  ctx.strokeStyle = reference(spec); ctx.setLineDash([2, 3]);
  ctx.beginPath(); ctx.moveTo(box.x, ymap(1 / K)); ctx.lineTo(box.x + box.w, ymap(1 / K)); ctx.stroke();
  ctx.setLineDash([]);
  ctx.fillStyle = "#222"; ctx.textAlign = "left"; ctx.font = "bold 11px sans-serif";
  ctx.fillText(pw >= 380 ? `softmax(z / T) at T = ${frame.T}; dashed: T = 1; dotted: 1/K` : `softmax(z / T), T = ${frame.T}`, box.x, 10);
  ctx.font = "11px sans-serif";
  // right: entropy / ln K and max p against T (log axis), the current T marked
  const ox = twoCols ? pw : 0, oy = twoCols ? 0 : ph;
  box = {x: ox + 40, y: oy + 22, w: qw - 54, h: ph - 62};
  const lt = Math.log10, T = spec.curves.T;
  xmap = t => box.x + (lt(t) - lt(T[0])) / (lt(T[T.length - 1]) - lt(T[0])) * box.w;
  ymap = v => box.y + box.h - v / 1.02 * box.h;
  axes(ctx, box, [0.1, 1, 10].filter(t => t >= T[0] && t <= T[T.length - 1]).map(t => [t, String(t)]),
       [0, 0.5, 1].map(v => [v, String(v)]), xmap, ymap, "temperature T (log axis)", "");
  [["entropy_fraction", spec.colors[2], "entropy / ln K"], ["max_prob", spec.colors[0], "max p"]].forEach(([k, c, name], j) => {
    ctx.strokeStyle = c; ctx.lineWidth = 2; ctx.setLineDash(j ? [] : [6, 3]);
    ctx.beginPath();
    T.forEach((t, i) => (i ? ctx.lineTo(xmap(t), ymap(spec.curves[k][i])) : ctx.moveTo(xmap(t), ymap(spec.curves[k][i]))));
    ctx.stroke();
    ctx.setLineDash([]);
    const v = frame[k];
    ctx.fillStyle = c;
    ctx.beginPath(); ctx.arc(xmap(frame.T), ymap(v), 4, 0, 2 * Math.PI); ctx.fill();
    ctx.textAlign = "left";
    ctx.fillText((j ? "— " : "- - ") + name, box.x + 6, box.y + 10 + 14 * j);
  });
  ctx.strokeStyle = "#444"; ctx.lineWidth = 1;
  ctx.beginPath(); ctx.moveTo(xmap(frame.T), box.y); ctx.lineTo(xmap(frame.T), box.y + box.h); ctx.stroke();
}

function temperatureAlt(spec, frame) {
  const probs = frame.probs.map((p, i) => `${spec.labels[i]} ${fmt(p, 3)}`).join(", ");
  return `Bar chart of softmax(z / T) at T = ${frame.T}: ${probs}; max p ${fmt(frame.max_prob, 3)} ` +
    `(${spec.labels[frame.argmax]}), entropy ${fmt(frame.entropy, 3)} nats = ${fmt(frame.entropy_fraction, 3)} of ln K. ` +
    `Beside it, entropy / ln K and max p against T, the current T marked.`;
}

// --- readouts ----------------------------------------------------------------------------------

function readoutCell(name, label, value, text) {
  const cell = el("div", {class: "ck-readout", "data-name": name});
  if (value !== undefined) cell.setAttribute("data-value", value === null ? "NaN" : String(value));
  cell.append(el("span", {class: "ck-readout-label", text: label + " "}), el("span", {class: "ck-readout-value", text}));
  return cell;
}

function fillReadouts(box, kind, spec, frame) {
  box.replaceChildren();
  if (kind === "histogram") {
    box.append(el("p", {class: "ck-header", text: frame.header}));
    const grid = el("div", {class: "ck-layers"});
    frame.layers.forEach((L, i) => {
      const card = el("div", {class: "ck-layer", role: "group", "aria-label": `layer ${i + 1}`, "data-layer": String(i + 1)});
      card.append(el("div", {class: "ck-layer-title", text: `layer ${i + 1}`}));
      card.append(readoutCell("mean", "mean", L.mean, fmt(L.mean, 3, "signed")));
      card.append(readoutCell("std", "std", L.std, fmt(L.std, 3, "sig")));
      card.append(readoutCell("flat", spec.flatWord, L.flat, fmt(L.flat, 1, "pct")));
      card.append(readoutCell("dead", "dead", L.dead, fmt(L.dead, 1, "pct")));
      card.append(readoutCell("unit_std", "unit std", L.unit_std, fmt(L.unit_std, 3, "sig")));
      card.append(readoutCell("input_share", "input share", L.input_share, fmt(L.input_share, 1, "pct")));
      card.append(readoutCell("alike", "units alike", L.alike, fmt(L.alike, 3)));
      card.append(readoutCell("beyond", "beyond", L.beyond, fmt(L.beyond, 1, "pct")));
      grid.append(card);
    });
    box.append(grid);
  } else if (kind === "slope") {
    box.append(readoutCell("a", "slope a =", frame.a, fmt(frame.a, 2)));
    box.append(readoutCell("negative_units", "units negative on every input:", frame.negative_units, fmt(frame.negative_units, 1, "pct")));
    box.append(readoutCell("zero_grad_units", "units with zero gradient everywhere:", frame.zero_grad_units, fmt(frame.zero_grad_units, 1, "pct")));
    box.append(readoutCell("mean_grad", "mean f′(z):", frame.mean_grad, fmt(frame.mean_grad, 3)));
  } else {
    box.append(readoutCell("T", "T =", frame.T, String(frame.T)));
    box.append(readoutCell("max_prob", "max p =", frame.max_prob, `${fmt(frame.max_prob, 3)} (${spec.labels[frame.argmax]})`));
    box.append(readoutCell("entropy", "entropy =", frame.entropy, `${fmt(frame.entropy, 3)} nats`));
    box.append(readoutCell("entropy_fraction", "entropy / ln K =", frame.entropy_fraction, fmt(frame.entropy_fraction, 3)));
    frame.probs.forEach((p, i) => box.append(readoutCell(`p${i}`, `p(${spec.labels[i]}) =`, p, fmt(p, 3))));
  }
}

// --- the widget ---------------------------------------------------------------------------------

const DRAW = {histogram: drawHistograms, slope: drawSlope, temperature: drawTemperature};
const ALT = {histogram: histogramAlt, slope: slopeAlt, temperature: temperatureAlt};

function injectCss(css) {
  if (!css || document.getElementById(CSS_ID)) return;
  const style = el("style", {id: CSS_ID});
  style.textContent = css;
  document.head.append(style);
}

function render({model, el: host}) {
  const spec = model.get("spec");
  injectCss(spec.css);
  const kind = spec.kind;
  const id = `ck${Math.random().toString(36).slice(2, 9)}`;  // unique even across module copies
  const root = el("div", {class: "coursekit-explorer ck-explorer", role: "group", "aria-label": spec.title, "data-kind": kind,
                          "data-lm-suppress-shortcuts": "true"});  // arrow keys move the controls, not JupyterLab's cells
  const controlsBox = el("div", {class: "ck-controls"});
  const inputs = {};
  const outputs = {};
  let values = {...model.get("values")};
  for (const c of spec.controls) {
    const cid = `${id}-${c.name}`;
    if (c.type === "range") {
      const wrap = el("div", {class: "ck-control ck-range", "data-control": c.name});
      const input = el("input", {type: "range", id: cid, min: "0", max: String(c.texts.length - 1), step: "1", name: c.name});
      const out = el("output", {for: cid, class: "ck-value", "aria-hidden": "true"});
      wrap.append(el("label", {for: cid, text: c.label}), input, out);
      if (c.note) wrap.append(el("span", {class: "ck-note", text: c.note}));
      input.addEventListener("input", () => change(c.name, Number(input.value)));
      inputs[c.name] = input;
      outputs[c.name] = out;
      controlsBox.append(wrap);
    } else if (c.type === "select") {
      const wrap = el("div", {class: "ck-control ck-select", "data-control": c.name});
      const select = el("select", {id: cid, name: c.name});
      for (const [v, t, disabled] of c.options) {
        const o = el("option", {value: String(v), text: t});
        if (disabled) o.disabled = true;
        select.append(o);
      }
      wrap.append(el("label", {for: cid, text: c.label}), select);
      if (c.note) wrap.append(el("span", {class: "ck-note", text: c.note}));
      select.addEventListener("change", () => {
        const opt = c.options.find(o => String(o[0]) === select.value);
        change(c.name, opt ? opt[0] : select.value, true);
      });
      inputs[c.name] = select;
      controlsBox.append(wrap);
    } else if (c.type === "buttons") {
      const wrap = el("div", {class: "ck-control ck-buttons", role: "group", "aria-labelledby": `${cid}-label`, "data-control": c.name});
      wrap.append(el("span", {id: `${cid}-label`, text: c.label}));
      for (const [index, text] of c.items) {
        const b = el("button", {type: "button", "data-index": String(index), "aria-label": `${c.label} ${text}`, text});
        b.addEventListener("click", () => change(c.target, index));
        wrap.append(b);
      }
      controlsBox.append(wrap);
    }
  }
  const canvas = el("canvas", {class: "coursekit-plot ck-canvas", role: "img"});
  const status = el("p", {class: "ck-status", role: "status", "aria-live": "polite"});
  const readouts = el("div", {class: "coursekit-stats ck-readouts"});
  const legend = el("p", {class: "ck-legend", text: spec.legend});
  // keys pressed on a control are the control's (JupyterLab's notebook would take the arrows for its cells)
  controlsBox.addEventListener("keydown", e => e.stopPropagation());
  root.append(controlsBox, canvas, status, readouts, legend);
  if (spec.note) root.append(el("p", {class: "coursekit-kernel-note ck-kernelnote", text: spec.note}));
  host.append(root);

  const cache = new Map();
  let frame = null, inflight = null, wanted = null, busyTimer = null, width = 0;

  function showControls() {
    for (const c of spec.controls) {
      const input = inputs[c.name];
      if (!input) continue;
      const v = values[c.name];
      if (c.type === "range") {
        input.value = String(v);
        input.setAttribute("aria-valuetext", c.texts[v]);
        outputs[c.name].textContent = c.texts[v];
      } else {
        input.value = String(v);
      }
    }
  }

  function frameFor(vals) {
    if (spec.table) return spec.table[vals[spec.table_key]];
    return cache.get(keyOf(vals)) || null;
  }

  function draw() {
    if (!frame) return;
    width = Math.max(220, Math.min(root.clientWidth || 600, spec.max_width || 960));
    DRAW[kind](canvas, spec, frame, width);
    canvas.setAttribute("aria-label", ALT[kind](spec, frame, values));
    canvas.setAttribute("data-key", frame.key || keyOf(values));
    fillReadouts(readouts, kind, spec, frame);
    root.dispatchEvent(new CustomEvent("coursekit-drawn", {bubbles: true}));
  }

  // The busy sign: at once after a choice from a list (another activation, init or width: a new network,
  // which can take a moment), 60 ms late after a slider step (most are drawn before, and it would flicker).
  function busy(on, now) {
    clearTimeout(busyTimer);
    const show = () => { status.textContent = "computing…"; root.classList.add("ck-busy"); };
    if (on && now) {
      show();
    } else if (on) {
      busyTimer = setTimeout(show, 60);
    } else {
      status.textContent = "";
      root.classList.remove("ck-busy");
    }
  }

  function request() {
    // one request in flight at a time; the newest position wins
    if (inflight !== null || wanted === null) return;
    inflight = wanted;
    wanted = null;
    model.set("values", {...inflight});
    model.save_changes();
  }

  function change(name, v, now) {
    values = {...values, [name]: v};
    showControls();
    const f = frameFor(values);
    if (f) {
      frame = f;
      draw();
      busy(false);
      if (spec.table) {  // the kernel (or page) keeps its copy of the position
        model.set("values", {...values});
        model.save_changes();
        return;
      }
    } else {
      busy(true, now);
    }
    wanted = {...values};
    request();
  }

  model.on("change:ahead", () => {  // a frame the kernel computed before it was asked for
    const f = model.get("ahead");
    if (f && f.key) cache.set(f.key, f);
  });
  model.on("change:frame", () => {
    const f = model.get("frame");
    if (f && f.key) cache.set(f.key, f);
    if (cache.size > 400) cache.delete(cache.keys().next().value);
    inflight = null;
    if (f && f.key === keyOf(values) && !(frame && frame.key === f.key)) {  // not drawn yet
      frame = f;
      draw();
      busy(false);
    }
    request();
  });
  model.on("change:values", () => {
    const v = model.get("values");
    if (inflight !== null || keyOf(v) === keyOf(values)) return;  // our own echo
    values = {...v};
    showControls();
    const f = frameFor(values);
    if (f) { frame = f; draw(); }
  });

  showControls();
  frame = spec.table ? frameFor(values) : model.get("frame");
  if (frame && frame.key) cache.set(frame.key, frame);
  draw();
  let ro = null;
  if (window.ResizeObserver) {
    let last = 0;
    ro = new ResizeObserver(() => {
      const w = root.clientWidth;
      if (Math.abs(w - last) > 4) { last = w; draw(); }
    });
    ro.observe(root);
  }
  return () => { if (ro) ro.disconnect(); clearTimeout(busyTimer); };
}

export default {render};
export {render, keyOf};
