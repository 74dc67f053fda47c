// The dashboard: live alerts over server-sent events, the station grid refreshed, and
// acknowledgements sent with the session's CSRF token. Every value from outside is set as text.
"use strict";

const csrf = document.querySelector('meta[name="csrf-token"]')?.content || "";
// The page's texts in its language (a JSON data block the server fills from its catalog).
const TEXTS = JSON.parse(document.getElementById("texts")?.textContent || "{}");

function t(text, values = {}) {
  return (TEXTS[text] || text).replace(/\{(\w+)\}/g, (whole, name) => (name in values ? String(values[name]) : whole));
}

function code(word) {
  return word ? t(word) : "–";
}
const mayAck = document.getElementById("may-ack")?.dataset.value === "yes";

function cell(row, text, className) {
  const td = document.createElement("td");
  if (className) td.className = className;
  td.textContent = text ?? "–";
  row.appendChild(td);
  return td;
}

function ackCell(td, alert) {
  td.textContent = "";
  if (alert.acknowledged_by) {
    td.append(`${alert.acknowledged_by}: ${alert.acknowledged_note}`, document.createElement("br"));
    const small = document.createElement("small");
    small.textContent = alert.acknowledged_at || "";
    td.appendChild(small);
  } else if (mayAck) {
    td.appendChild(document.getElementById("ack-template").content.cloneNode(true));
  } else {
    td.textContent = "–";
  }
}

function alertRow(alert) {
  const row = document.createElement("tr");
  row.dataset.msgId = alert.msg_id;
  row.dataset.station = alert.station;
  row.dataset.order = alert.order_id || "";
  row.className = `verdict-${(alert.verdict || "").toLowerCase()} fresh`;
  cell(row, alert.judged_at);
  cell(row, alert.station);
  const order = cell(row, alert.order_id, "order");
  for (const extra of [alert.marketplace_order, alert.tracking_number, alert.packer]) {
    if (!extra) continue;
    const small = document.createElement("small");
    small.textContent = extra;
    order.append(document.createElement("br"), small);
  }
  const verdict = cell(row, "");
  const bold = document.createElement("b");
  bold.textContent = code(alert.verdict);
  verdict.appendChild(bold);
  // Words of the page's language from the verdict's figures; the station's sentence (English,
  // with its statistics) is the cell's title.
  const why = cell(row, alert.difference_text);
  why.title = alert.reason;
  if (alert.explanation) {
    const small = document.createElement("small");
    small.textContent = alert.explanation;
    why.append(document.createElement("br"), small);
  }
  cell(row, alert.outcome_text, "outcome").dataset.kind = alert.outcome_kind;
  ackCell(cell(row, "", "ack"), alert);
  if (mayAck) {
    const command = cell(row, "", "command");
    command.textContent = "";
    if (alert.outcome_kind === "open") {
      command.appendChild(document.getElementById("command-template").content.cloneNode(true));
    }
  }
  return row;
}

async function sendCommand(form, command) {
  const row = form.closest("tr");
  const reason = form.elements.reason.value.trim();
  if (command === "override" && reason.length < 3) {
    form.elements.reason.setCustomValidity(t("an override needs a reason"));
    form.reportValidity();
    return;
  }
  const [site, line, station] = row.dataset.station.split("/");
  const body = { command, order_id: row.dataset.order || null };
  if (command === "override") body.reason = reason;
  const path = [site, line, station].map(encodeURIComponent).join("/");
  const reply = await fetch(`/api/stations/${path}/command`, {
    method: "POST",
    headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
    body: JSON.stringify(body),
  });
  const cellOf = row.querySelector("td.command");
  cellOf.textContent = reply.ok ? t("{command} sent", { command: t(command) }) : t("not sent: {status}", { status: reply.status });
}

async function acknowledge(form) {
  const row = form.closest("tr");
  const note = form.elements.note.value.trim();
  if (!note) return;
  const reply = await fetch(`/api/alerts/${encodeURIComponent(row.dataset.msgId)}/ack`, {
    method: "POST",
    headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
    body: JSON.stringify({ note }),
  });
  if (reply.ok) {
    ackCell(row.querySelector("td.ack"), await reply.json());
  } else {
    form.elements.note.setCustomValidity(t("not acknowledged: {status}", { status: reply.status }));
    form.reportValidity();
  }
}

function tile(station) {
  const article = document.createElement("article");
  article.className = `tile state-${station.state} light-${(station.light || "none").toLowerCase()}`;
  article.dataset.key = station.key;
  const title = document.createElement("h3");
  title.textContent = station.key;
  article.appendChild(title);
  const line = (text, className) => {
    const p = document.createElement("p");
    if (className) p.className = className;
    p.textContent = text;
    article.appendChild(p);
  };
  line(`${code(station.state)}${station.station_state ? ` · ${code(station.station_state)}` : ""}`, "state");
  const light = document.createElement("b");
  light.textContent = code(station.light);
  const lightLine = document.createElement("p");
  lightLine.append(`${t("Light")}: `, light, station.order_id ? ` · ${t("order")} ${station.order_id}` : "");
  article.appendChild(lightLine);
  const scale = station.scale_state ? code(station.scale_state) : "?";
  line(`${t("Scale")}: ${scale}${station.scale_problem ? ` – ${station.scale_problem}` : ""}`);
  const stable = station.seconds_since_stable == null ? "–" : t("{n} s ago", { n: station.seconds_since_stable });
  line(`${t("Last stable reading")}: ${stable} · ${t("outbox")} ${station.outbox_backlog ?? "?"}`);
  if (station.ledger_records != null) {
    const signed = t("{n} records, signed {when}", { n: station.ledger_records, when: station.ledger_signed_at });
    line(`${t("Ledger")}: ${signed} · ${t("key")} ${station.key_fingerprint}`, "ledger");
  }
  if (station.scale_test) line(`${t("Scale test")}: ${code(station.scale_test)} · ${station.scale_test_at}`, "scale-test");
  for (const problem of station.problems) line(problem, "problem");
  line(t("last heard {when}", { when: station.seen_at }), "seen");
  return article;
}

async function refreshFeed() {
  // What happened next (a re-weigh, an override) and acknowledgements by others change rows
  // already shown: every few seconds the newest alerts are read again and their rows updated.
  const reply = await fetch("/api/alerts?limit=100");
  if (!reply.ok) return;
  for (const alert of await reply.json()) {
    const row = document.querySelector(`tr[data-msg-id="${CSS.escape(alert.msg_id)}"]`);
    if (!row) continue;
    const outcome = row.querySelector("td.outcome");
    if (outcome.textContent !== alert.outcome_text) {
      outcome.textContent = alert.outcome_text;
      outcome.dataset.kind = alert.outcome_kind;
      const command = row.querySelector("td.command");
      if (command && alert.outcome_kind !== "open") command.textContent = "";
    }
    const ack = row.querySelector("td.ack");
    if (alert.acknowledged_by && !ack.textContent.startsWith(alert.acknowledged_by)) {
      ackCell(ack, alert);
    }
  }
}

async function refreshGrid() {
  const reply = await fetch("/api/stations");
  if (!reply.ok) return;
  const stations = await reply.json();
  const grid = document.getElementById("grid");
  grid.replaceChildren(...stations.map(tile));
}

document.getElementById("print")?.addEventListener("click", () => window.print());

if (document.body.dataset.page === "dashboard") {
  const feed = document.getElementById("feed");
  document.addEventListener("submit", (event) => {
    if (event.target.classList.contains("ack-form")) {
      event.preventDefault();
      acknowledge(event.target);
    } else if (event.target.classList.contains("command-form")) {
      event.preventDefault();
      sendCommand(event.target, event.submitter?.value || "reweigh");
    }
  });
  document.addEventListener("input", (event) => event.target.setCustomValidity?.(""));
  const source = new EventSource("/api/feed");
  source.addEventListener("message", (event) => {
    const alert = JSON.parse(event.data);
    if (!feed.querySelector(`tr[data-msg-id="${CSS.escape(alert.msg_id)}"]`)) {
      feed.prepend(alertRow(alert));
    }
    refreshGrid();
  });
  setInterval(() => { refreshGrid(); refreshFeed(); }, 3000);
  document.body.dataset.live = "yes";
}
