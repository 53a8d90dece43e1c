// The console's only script: live calls over server-sent events, the workbench, CSV file to text.
"use strict";
const csrf = () => document.body.dataset.csrf;
const el = (tag, cls, text) => { const e = document.createElement(tag); if (cls) e.className = cls; if (text !== undefined) e.textContent = text; return e; };

async function postJson(url, body) {
  const r = await fetch(url, { method: "POST", headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf() }, body: JSON.stringify(body) });
  return r;
}

// -- live calls ------------------------------------------------------------------------------
function liveView(root) {
  const calls = new Map();
  const empty = document.getElementById("live-empty");
  const status = document.getElementById("live-status");
  const refresh = () => { empty.hidden = calls.size > 0; };
  function render(c) {
    let box = document.getElementById("call-" + c.call_id);
    if (!box) { box = el("section", "call"); box.id = "call-" + c.call_id; root.appendChild(box); }
    box.replaceChildren();
    const head = el("h2", null, c.call_id + " ");
    head.appendChild(el("span", "state", c.state));
    box.appendChild(head);
    const s = c.started || {};
    box.appendChild(el("p", "hint", `${s.script || "?"} v${s.version || "?"} · ${s.locale || ""} · ${s.protocol || ""} · script ${String(s.script_hash || "").slice(0, 12)}`));
    const m = c.metrics || {};
    const latency = el("p", "latency", "voice-to-voice " + (m.voice_to_voice_ms !== undefined ? Math.round(m.voice_to_voice_ms) + " ms" : "–") +
      " · NLU " + (m.nlu_ms !== undefined ? Math.round(m.nlu_ms) + " ms" : "–") + (m.barge_in ? " · barge-in" : ""));
    box.appendChild(latency);
    const form = el("form", "inline"); form.method = "post"; form.action = `/console/live/${encodeURIComponent(c.call_id)}/end`;
    const tok = el("input"); tok.type = "hidden"; tok.name = "csrf"; tok.value = csrf(); form.appendChild(tok);
    form.appendChild(el("button", "danger", "End call")); box.appendChild(form);
    const list = el("ol", "transcript"); list.dataset.role = "turns";
    for (const t of c.turns) list.appendChild(turnItem(t));
    box.appendChild(list);
    const evs = el("ul", "events");
    for (const e of c.events) evs.appendChild(eventItem(e));
    box.appendChild(evs);
  }
  function turnItem(t) {
    const li = el("li", t.speaker);
    li.appendChild(el("span", "t", (t.start_ms / 1000).toFixed(1) + "s "));
    li.appendChild(el("b", null, t.speaker + " "));
    li.appendChild(document.createTextNode(t.text));
    if (t.intent) li.appendChild(el("span", "intent", t.intent));
    return li;
  }
  function eventItem(e) { return el("li", null, e.kind + " " + JSON.stringify(e.data)); }
  const src = new EventSource(root.dataset.stream);
  src.onopen = () => { status.textContent = "live"; };
  src.onerror = () => { status.textContent = "reconnecting…"; };
  src.onmessage = (m) => {
    const msg = JSON.parse(m.data);
    if (msg.type === "snapshot") { calls.clear(); root.replaceChildren(); for (const c of msg.calls) { calls.set(c.call_id, c); render(c); } }
    else if (msg.type === "call") { calls.set(msg.call.call_id, msg.call); render(msg.call); }
    else if (msg.type === "turn" && calls.has(msg.call_id)) { const c = calls.get(msg.call_id); c.turns.push(msg.turn); c.state = "talking"; render(c); }
    else if (msg.type === "metric" && calls.has(msg.call_id)) { const c = calls.get(msg.call_id); c.metrics = c.metrics || {}; c.metrics[msg.name] = msg.value; render(c); }
    else if (msg.type === "event" && calls.has(msg.call_id)) { const c = calls.get(msg.call_id); c.events.push(msg.event); render(c); }
    else if (msg.type === "ended") {
      const c = calls.get(msg.call_id); calls.delete(msg.call_id);
      const box = document.getElementById("call-" + msg.call_id); if (box) box.remove();
      const li = el("li"); const a = el("a", null, msg.call_id); a.href = "/console/calls/" + encodeURIComponent(msg.call_id);
      li.appendChild(a); li.appendChild(document.createTextNode(` ended: ${msg.outcome} (${c ? c.turns.length : 0} turns)`));
      document.getElementById("live-ended").prepend(li);
    }
    refresh();
  };
  refresh();
}

// -- script workbench ------------------------------------------------------------------------
function workbench(bench) {
  const name = bench.dataset.name;
  const text = document.getElementById("script-text");
  const gutter = document.getElementById("gutter");
  const findings = document.getElementById("findings");
  const state = document.getElementById("lint-state");
  const says = document.getElementById("says");
  let timer = null, bad = new Map();
  function drawGutter() {
    const n = text.value.split("\n").length; gutter.replaceChildren();
    for (let i = 1; i <= n; i++) { const d = el("div", bad.has(i) ? "bad-line" : null, String(i)); if (bad.has(i)) d.title = bad.get(i); gutter.appendChild(d); }
  }
  async function lint() {
    state.textContent = "checking…";
    const r = await postJson("/console/scripts/lint", { name, text: text.value });
    if (!r.ok) { state.textContent = "lint failed (" + r.status + ")"; return; }
    const data = await r.json();
    findings.replaceChildren(); bad = new Map();
    for (const f of data.findings) {
      const li = el("li", "finding"); li.dataset.rule = f.rule; li.dataset.line = f.line || "";
      li.appendChild(el("code", null, f.rule)); li.appendChild(document.createTextNode(` line ${f.line || "?"}: ${f.message}. `));
      li.appendChild(el("span", "hint", f.fix));
      li.addEventListener("click", () => goToLine(f.line));
      findings.appendChild(li); if (f.line) bad.set(f.line, f.rule + ": " + f.message);
    }
    state.textContent = data.findings.length ? `${data.findings.length} finding(s)` : "clean";
    state.className = data.findings.length ? "bad" : "good";
    const keep = says.value; says.replaceChildren();
    for (const s of data.says) { const o = el("option", null, `${s.id}: ${s.text.slice(0, 70)}`); o.value = s.id; says.appendChild(o); }
    if (keep) says.value = keep;
    drawGutter();
  }
  function goToLine(line) {
    if (!line) return; const lines = text.value.split("\n"); let pos = 0;
    for (let i = 0; i < line - 1 && i < lines.length; i++) pos += lines[i].length + 1;
    text.focus(); text.setSelectionRange(pos, pos + (lines[line - 1] || "").length);
    text.scrollTop = Math.max(0, (line - 6) * 18); gutter.scrollTop = text.scrollTop;  // 18px: the CSS line height
  }
  text.addEventListener("input", () => { clearTimeout(timer); timer = setTimeout(lint, 400); drawGutter(); });
  text.addEventListener("scroll", () => { gutter.scrollTop = text.scrollTop; });
  document.getElementById("hear").addEventListener("click", async () => {
    const st = document.getElementById("hear-state"); st.textContent = "synthesising…";
    const r = await postJson("/console/scripts/hear", { name, text: text.value, say: says.value });
    if (!r.ok) { st.textContent = (await r.json()).error || "failed"; return; }
    const player = document.getElementById("player"); player.src = URL.createObjectURL(await r.blob());
    st.textContent = ""; player.play().catch(() => {});
  });
  document.getElementById("diff").addEventListener("click", async () => {
    const r = await postJson("/console/scripts/diff", { name, text: text.value });
    const data = await r.json();
    document.getElementById("diff-out").textContent = data.diff || (data.published ? "same as the published text" : "nothing published yet");
  });
  const submit = document.getElementById("submit-form");
  if (submit) submit.addEventListener("submit", () => { document.getElementById("submit-text").value = text.value; });
  lint();
}

// -- CSV file into its textarea --------------------------------------------------------------
function fillers() {
  for (const input of document.querySelectorAll("input[type=file][data-fill]")) {
    input.addEventListener("change", async () => {
      const f = input.files[0]; if (f) document.getElementById(input.dataset.fill).value = await f.text();
    });
  }
}

document.addEventListener("DOMContentLoaded", () => {
  const live = document.getElementById("live-calls"); if (live) liveView(live);
  const bench = document.getElementById("bench"); if (bench) workbench(bench);
  fillers();
});
