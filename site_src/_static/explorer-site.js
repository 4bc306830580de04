// The website's explorers: the course's one renderer (explorer.js, the file JupyterLab runs)
// driven by numbers `make site` computed with the course's Python code. No kernel, no server:
// a small model stands in for anywidget's, and a control move reads the frame from a JSON file
// this site serves, fetched once per group (init × width × activation) when first needed.
import explorer, {keyOf} from "./explorer.js";

function start(host, data, base) {
  const state = {spec: data.spec, values: data.values, frame: data.frame};
  const listeners = {};
  const groups = new Map();
  const fire = evt => (listeners[evt] || []).forEach(cb => cb());
  const text = (name, value) => {
    const c = state.spec.controls.find(c => c.name === name);
    if (c.type === "range") return c.texts[value];
    const o = c.options.find(o => String(o[0]) === String(value));
    return o ? o[1] : String(value);
  };
  async function load(values) {
    const key = `${values.init}|${values.width}|${values.activation}`;
    const file = data.groups[key];
    if (!file) {  // cannot happen through the page: such options are disabled
      state.frame = {...state.frame, key: "unavailable"};
      fire("change:frame");
      return;
    }
    if (!groups.has(key)) groups.set(key, fetch(base + file).then(r => r.json()));
    const group = await groups.get(key);
    state.frame = {
      layers: group.frames[values.scale].slice(0, values.depth + 1), total: group.total,
      activation: values.activation, key: keyOf(values),
      header: `${text("init", values.init)} × ${text("scale", values.scale)}, ${text("activation", values.activation)}, ` +
              `${text("depth", values.depth)} × ${text("width", values.width)}, ${data.n_samples} samples`,
    };
    fire("change:frame");
  }
  const model = {
    get: k => state[k],
    set: (k, v) => { state[k] = v; },
    on: (evt, cb) => { (listeners[evt] = listeners[evt] || []).push(cb); },
    off: () => {},
    send: () => {},
    save_changes: () => { if (!state.spec.table) load(state.values); },
  };
  host.replaceChildren();
  explorer.render({model, el: host});
}

for (const host of document.querySelectorAll(".ck-site-explorer[data-src]")) {
  const src = host.dataset.src;
  const base = src.slice(0, src.lastIndexOf("/") + 1);
  fetch(src).then(r => r.json()).then(data => start(host, data, base)).catch(err => {
    host.append(Object.assign(document.createElement("p"), {textContent: `This explorer could not load: ${err}`}));
  });
}
