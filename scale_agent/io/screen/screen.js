// The packer's screen: applies each state from the station as text (never as markup).
"use strict";

const OFFLINE_AFTER_MS = 2500; // no stream for this long: the station is not running
// The station sends a state or a beat at least once a second while its loop turns; with
// neither for this long it no longer stands behind what the page shows (a hung daemon).
const SILENT_AFTER_MS = 3500;
const CUES = {
  // [frequency Hz, duration s] steps: distinct enough to tell apart without looking.
  fail: [[440, 0.18], [0, 0.06], [330, 0.35]],
  recheck: [[520, 0.12], [0, 0.06], [660, 0.12]],
  item_mismatch: [[700, 0.1], [0, 0.05], [700, 0.1], [0, 0.05], [700, 0.1]],
  fault: [[220, 0.6]],
};

let labels = {};
let lastSignal = null;
let offlineTimer = null;
let audio = null;
let heardAt = Date.now();

function byId(id) { return document.getElementById(id); }

function setText(id, text) {
  const node = byId(id);
  const value = text == null ? "" : String(text);
  if (node.textContent !== value) node.textContent = value;
}

function applyLabels(newLabels) {
  labels = newLabels || {};
  for (const node of document.querySelectorAll("[data-label]")) {
    const text = labels[node.dataset.label];
    if (text !== undefined && node.textContent !== text) node.textContent = text;
  }
}

function applyBar(bar) {
  const box = byId("bar");
  box.hidden = !bar;
  if (!bar) return;
  const widths = { under: bar.ok_from, ok: bar.ok_to - bar.ok_from, over: 1 - bar.ok_to };
  for (const [zone, width] of Object.entries(widths)) {
    byId(`${zone}-zone`).style.flex = String(width);
    byId(`${zone}-name`).style.flex = String(width);
  }
  const needle = byId("needle");
  needle.hidden = bar.needle == null;
  if (bar.needle != null) needle.style.left = (bar.needle * 100).toFixed(2) + "%";
  setText("measured", bar.measured);
  setText("expected", bar.expected);
  setText("limits", bar.limits);
}

function applyItems(items) {
  const box = byId("items-box");
  const list = byId("items");
  box.hidden = !items || items.length === 0;
  const rows = [];
  for (const item of items || []) {
    const row = document.createElement("li");
    row.dataset.state = item.state;
    const qty = document.createElement("span");
    qty.className = "qty";
    qty.textContent = item.done == null ? `${item.qty} \u00d7 ` : `${item.done}/${item.qty} \u00d7 `;
    const name = document.createElement("span");
    name.textContent = item.name;
    const weight = document.createElement("span");
    weight.className = "weight";
    weight.textContent = ` ${item.weight}`;
    row.append(qty, name, weight);
    if (item.delta) { // the line a MISSING / EXTRA ITEM verdict names: "-1 missing"
      const delta = document.createElement("span");
      delta.className = "delta";
      delta.textContent = `${item.delta} ${labels[item.state] || ""}`.trim();
      row.append(delta);
    }
    rows.push(row);
  }
  list.replaceChildren(...rows);
}

function cue(signal) {
  const steps = CUES[signal];
  if (!steps) return;
  try {
    audio = audio || new AudioContext();
    let at = audio.currentTime;
    for (const [frequency, duration] of steps) {
      if (frequency > 0) {
        const tone = audio.createOscillator();
        const gain = audio.createGain();
        tone.frequency.value = frequency;
        gain.gain.setValueAtTime(0.25, at);
        tone.connect(gain).connect(audio.destination);
        tone.start(at);
        tone.stop(at + duration);
      }
      at += duration;
    }
  } catch (error) {
    // No audio device or autoplay refused: the colour still says it.
  }
}

function apply(state) {
  if (document.documentElement.lang !== state.lang) {
    document.documentElement.lang = state.lang || "en";
    tick();
  }
  document.body.dataset.signal = state.signal;
  applyLabels(state.labels);
  setText("station", state.station);
  setText("order", state.order_id || "\u2013");
  setText("carton", state.carton || "\u2013");
  setText("headline", state.headline);
  setText("instruction", state.instruction);
  setText("detail", state.detail);
  applyBar(state.bar);
  applyItems(state.items);
  const seal = byId("seal");
  seal.dataset.open = String(Boolean(state.seal));
  setText("seal", state.seal ? labels.seal_open : labels.seal_locked);
  const monitor = byId("monitor");
  monitor.hidden = state.monitor_up;
  setText("monitor", state.monitor_up ? "" : labels.monitor_down);
  if (state.sound && lastSignal !== null && state.signal !== lastSignal) cue(state.signal);
  lastSignal = state.signal;
  document.body.dataset.ready = "true";
}

function online() {
  clearTimeout(offlineTimer);
  offlineTimer = null;
  byId("offline").hidden = true;
}

function offlineSoon() {
  if (offlineTimer !== null) return;
  offlineTimer = setTimeout(() => {
    byId("offline").hidden = false;
    document.body.dataset.running = "false";
  }, OFFLINE_AFTER_MS);
}

function heard() {
  heardAt = Date.now();
  if (!byId("silent").hidden) {
    byId("silent").hidden = true;
    document.body.dataset.responding = "true";
    tick();
  }
}

function checkSilence() {
  if (!byId("offline").hidden || Date.now() - heardAt < SILENT_AFTER_MS) return;
  if (byId("silent").hidden) {
    byId("silent").hidden = false;
    document.body.dataset.responding = "false";
    setText("clock", "--:--"); // a frozen page must not look alive
  }
}

function tick() {
  if (document.body.dataset.responding === "false") return;
  const now = new Date();
  const options = { hour: "2-digit", minute: "2-digit", hour12: false };
  setText("clock", now.toLocaleTimeString(document.documentElement.lang, options));
}

function connect() {
  const source = new EventSource("/events");
  source.onopen = () => { online(); heard(); document.body.dataset.running = "true"; };
  source.onmessage = (event) => { online(); heard(); apply(JSON.parse(event.data)); };
  source.addEventListener("beat", () => { online(); heard(); });
  source.onerror = () => { offlineSoon(); };  // EventSource reconnects by itself
}

tick();
setInterval(tick, 10000);
setInterval(checkSilence, 500);
connect();
