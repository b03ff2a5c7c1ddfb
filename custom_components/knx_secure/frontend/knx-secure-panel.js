// The KNX Secure group monitor: a plain web component (no imports, nothing from outside Home
// Assistant). Home Assistant sets `hass`; the rows come from the integration's websocket API
// (knx_secure/monitor/...). Colours are Home Assistant's theme variables (light and dark).

const MAX_ROWS = 5000; // rows kept in the page
const MAX_SHOWN = 400; // rows in the table (the newest that match the filters)
const PREFIX = "knx_secure/monitor";

const STYLE = `
:host { display: block; height: 100%; background: var(--primary-background-color);
  color: var(--primary-text-color); font-family: var(--paper-font-body1_-_font-family, sans-serif);
  font-size: 14px; overflow: auto; }
header { display: flex; align-items: center; gap: 8px; padding: 8px 16px; flex-wrap: wrap;
  background: var(--app-header-background-color, var(--primary-color));
  color: var(--app-header-text-color, var(--text-primary-color, #fff)); min-height: 48px; }
header h1 { font-size: 20px; font-weight: 400; margin: 0 auto 0 0; }
header button.menu { display: none; background: none; border: none; font-size: 20px;
  color: inherit; padding: 4px 8px; }
:host([narrow]) header button.menu { display: inline-block; }
button { font: inherit; padding: 6px 12px; border-radius: 4px; cursor: pointer;
  border: 1px solid var(--divider-color); background: var(--card-background-color);
  color: var(--primary-text-color); }
button.primary { background: var(--primary-color); color: var(--text-primary-color, #fff);
  border-color: var(--primary-color); }
.bar { display: flex; flex-wrap: wrap; gap: 8px; padding: 8px 16px; align-items: center;
  background: var(--card-background-color); border-bottom: 1px solid var(--divider-color); }
input, select { font: inherit; padding: 6px 8px; border-radius: 4px; min-width: 0;
  border: 1px solid var(--divider-color); background: var(--primary-background-color);
  color: var(--primary-text-color); }
.bar input { width: 9em; } .bar input[type=search] { flex: 1 1 12em; }
.status { padding: 4px 16px; color: var(--secondary-text-color); font-size: 12px; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: 6px 8px; border-bottom: 1px solid var(--divider-color);
  vertical-align: top; }
th { position: sticky; top: 0; background: var(--card-background-color); font-weight: 500;
  color: var(--secondary-text-color); }
td small { display: block; color: var(--secondary-text-color); }
td.value { font-family: var(--code-font-family, monospace); }
.badge { display: inline-block; border-radius: 10px; padding: 1px 8px; font-size: 12px;
  color: #fff; white-space: nowrap; }
.badge.secure { background: var(--success-color, #43a047); }
.badge.plain { background: var(--warning-color, #ffa600); }
.badge.rejected { background: var(--error-color, #db4437); }
tr.why td { border-bottom: 1px solid var(--divider-color); padding-top: 0;
  color: var(--error-color, #db4437); }
tr.why td small { color: var(--primary-text-color); }
tr.rejected td { border-bottom: none; }
.dir { font-weight: 700; }
#send { display: none; padding: 8px 16px; gap: 8px; flex-wrap: wrap; align-items: center;
  background: var(--card-background-color); border-bottom: 1px solid var(--divider-color); }
#send.open { display: flex; }
#send-result { flex-basis: 100%; font-size: 12px; }
#send-result.error { color: var(--error-color, #db4437); }
@media (max-width: 600px) {
  thead { display: none; }
  table, tbody, tr, td { display: block; width: auto; }
  tr.row { border-top: 1px solid var(--divider-color); padding: 4px 0; }
  td { border: none; padding: 2px 16px; }
  td::before { content: attr(data-label) ": "; color: var(--secondary-text-color); }
  .bar input { width: calc(50% - 8px); }
}
`;

const HTML = `
<style>${STYLE}</style>
<header>
  <button id="menu" class="menu" title="Sidebar" aria-label="Sidebar">☰</button>
  <h1>KNX group monitor</h1>
  <button id="pause" title="Stop following new telegrams">Pause</button>
  <button id="clear" title="Forget the telegrams shown and stored">Clear</button>
  <button id="export" title="Download the rows shown as CSV">Export CSV</button>
  <button id="send-toggle" class="primary">Send / read</button>
</header>
<div id="send">
  <input id="send-address" placeholder="Group address (1/2/3)" aria-label="Group address">
  <select id="send-service" aria-label="Service">
    <option value="write">Write</option><option value="read">Read</option>
  </select>
  <input id="send-dpt" list="dpts" placeholder="Type (1.001)" aria-label="Datapoint type">
  <datalist id="dpts"></datalist>
  <input id="send-value" placeholder="Value (true, 21.5, &quot;text&quot;)" aria-label="Value">
  <input id="send-payload" placeholder="or raw payload (hex)" aria-label="Raw payload">
  <button id="send-go" class="primary">Send</button>
  <div id="send-result" role="status"></div>
</div>
<div class="bar">
  <input id="f-address" placeholder="Address" aria-label="Filter by address">
  <input id="f-source" placeholder="Source" aria-label="Filter by source">
  <select id="f-direction" aria-label="Filter by direction">
    <option value="">Both directions</option>
    <option value="incoming">Incoming</option><option value="outgoing">Outgoing</option>
  </select>
  <select id="f-security" aria-label="Filter by security">
    <option value="">Any security</option><option value="secure">Data Secure</option>
    <option value="plain">Plain</option><option value="rejected">Rejected</option>
  </select>
  <input id="f-text" type="search" placeholder="Search" aria-label="Search">
</div>
<div class="status" id="status">Connecting…</div>
<table>
  <thead><tr><th>Time</th><th>Dir</th><th>Source</th><th>Destination</th><th>Service</th>
    <th>Value</th><th>Security</th></tr></thead>
  <tbody id="rows"></tbody>
</table>
`;

const SECURITY_LABEL = { secure: "Data Secure", plain: "Plain", rejected: "Rejected" };

function text(value) {
  return value === null || value === undefined ? "" : String(value);
}

function formatTime(seconds) {
  const date = new Date(seconds * 1000);
  const pad = (n, w = 2) => String(n).padStart(w, "0");
  return `${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}.` +
    pad(date.getMilliseconds(), 3);
}

function formatValue(row) {
  if (row.service === "read" || row.security === "rejected") return "";
  if (row.value !== null && row.value !== undefined) {
    let shown;
    if (typeof row.value === "boolean" && row.dpt && row.dpt.startsWith("1.")) {
      shown = row.value ? "on" : "off";
    } else if (typeof row.value === "object") {
      shown = JSON.stringify(row.value);
    } else {
      shown = String(row.value);
    }
    return row.unit ? `${shown} ${row.unit}` : shown;
  }
  if (typeof row.payload === "number") return `raw 0x${row.payload.toString(16).padStart(2, "0")}`;
  return row.payload ? `raw ${row.payload}` : "";
}

function rowKey(row) {
  return `${row.time}|${row.entry_id}|${row.direction}|${row.source}|${row.destination}|` +
    `${row.service}|${row.payload}|${row.reason}`;
}

function csvField(value) {
  const s = text(value);
  return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

class KnxSecurePanel extends HTMLElement {
  constructor() {
    super();
    this._rows = [];
    this._paused = false;
    this._unsubscribe = null;
    this._connecting = false;
    this._renderScheduled = false;
    this._fresh = []; // rows that arrived since the last render
    this._shown = 0; // rows in the table
    this.attachShadow({ mode: "open" }).innerHTML = HTML;
    const $ = (id) => this.shadowRoot.getElementById(id);
    this._tbody = $("rows");
    this._status = $("status");
    $("menu").addEventListener("click", () =>
      this.dispatchEvent(new CustomEvent("hass-toggle-menu", { bubbles: true, composed: true })));
    $("pause").addEventListener("click", () => this._togglePause());
    $("clear").addEventListener("click", () => this._clear());
    $("export").addEventListener("click", () => this._export());
    $("send-toggle").addEventListener("click", () => $("send").classList.toggle("open"));
    $("send-go").addEventListener("click", () => this._send());
    for (const id of ["f-address", "f-source", "f-direction", "f-security", "f-text"]) {
      $(id).addEventListener("input", () => this._renderAll());
    }
  }

  set hass(hass) {
    this._hass = hass;
    if (this.isConnected) this._connect();
  }

  get hass() {
    return this._hass;
  }

  set narrow(value) {
    // Home Assistant hides its sidebar on narrow screens: the menu button opens it.
    this.toggleAttribute("narrow", Boolean(value));
  }
  set panel(_value) {}
  set route(_value) {}

  connectedCallback() {
    if (this._hass) this._connect();
  }

  disconnectedCallback() {
    if (this._unsubscribe) {
      this._unsubscribe.then((unsubscribe) => unsubscribe()).catch(() => {});
      this._unsubscribe = null;
    }
  }

  async _connect() {
    if (this._unsubscribe || this._connecting) return;
    this._connecting = true;
    const live = [];
    let loaded = false;
    try {
      this._unsubscribe = this._hass.connection.subscribeMessage(
        (row) => (loaded ? this._add([row]) : live.push(row)),
        { type: `${PREFIX}/subscribe` },
      );
      await this._unsubscribe;
      const info = await this._hass.callWS({ type: `${PREFIX}/info` });
      this._info = info;
      const options = info.dpts.map((d) => {
        const option = document.createElement("option");
        option.value = d.id;
        option.label = `${d.id} ${d.name}${d.unit ? ` (${d.unit})` : ""}`;
        return option;
      });
      this.shadowRoot.getElementById("dpts").replaceChildren(...options);
      const history = await this._hass.callWS({ type: `${PREFIX}/history` });
      const seen = new Set(history.rows.map(rowKey));
      this._rows = history.rows.concat(live.filter((row) => !seen.has(rowKey(row))));
      loaded = true;
      this._trim();
      this._renderAll();
    } catch (err) {
      this._status.textContent = `The group monitor is not available: ${err.message || err.code || err}`;
      this._unsubscribe = null;
    } finally {
      this._connecting = false;
    }
  }

  _add(rows) {
    this._rows.push(...rows);
    this._trim();
    if (this._paused) {
      this._updateStatus();
      return;
    }
    this._fresh.push(...rows);
    if (!this._renderScheduled) {
      this._renderScheduled = true;
      requestAnimationFrame(() => this._renderFresh());
    }
  }

  _trim() {
    if (this._rows.length > MAX_ROWS) this._rows.splice(0, this._rows.length - MAX_ROWS);
  }

  _filters() {
    const value = (id) => this.shadowRoot.getElementById(id).value.trim().toLowerCase();
    return {
      address: value("f-address"),
      source: value("f-source"),
      direction: value("f-direction"),
      security: value("f-security"),
      text: value("f-text"),
    };
  }

  _matches(row, f) {
    if (f.address && !row.destination.startsWith(f.address)) return false;
    if (f.source && !row.source.startsWith(f.source)) return false;
    if (f.direction && row.direction !== f.direction) return false;
    if (f.security && row.security !== f.security) return false;
    if (f.text) {
      const haystack = [row.source, row.source_name, row.destination, row.destination_name,
        row.service, formatValue(row), row.dpt, SECURITY_LABEL[row.security], row.explanation]
        .map(text).join(" ").toLowerCase();
      if (!haystack.includes(f.text)) return false;
    }
    return true;
  }

  _shownRows() {
    const f = this._filters();
    const shown = [];
    for (let i = this._rows.length - 1; i >= 0 && shown.length < MAX_SHOWN; i--) {
      if (this._matches(this._rows[i], f)) shown.push(this._rows[i]);
    }
    return shown; // newest first
  }

  _renderAll() {
    this._fresh = [];
    const fragment = document.createDocumentFragment();
    const shown = this._shownRows();
    for (const row of shown) this._appendRow(fragment, row);
    this._tbody.replaceChildren(fragment);
    this._shown = shown.length;
    this._updateStatus();
  }

  _renderFresh() {
    this._renderScheduled = false;
    if (this._paused) return;
    const f = this._filters();
    const fresh = this._fresh.filter((row) => this._matches(row, f));
    this._fresh = [];
    if (fresh.length) {
      const fragment = document.createDocumentFragment();
      for (let i = fresh.length - 1; i >= 0; i--) this._appendRow(fragment, fresh[i]);
      this._tbody.prepend(fragment);
      this._shown += fresh.length;
      // Drop the oldest rows (and their explanation rows) beyond MAX_SHOWN, from the end.
      while (this._shown > MAX_SHOWN) {
        const last = this._tbody.lastElementChild;
        if (!last) break;
        if (last.classList.contains("row")) this._shown -= 1;
        last.remove();
      }
    }
    this._updateStatus();
  }

  _appendRow(parent, row) {
    const tr = document.createElement("tr");
    tr.className = `row ${row.security}`;
    tr.dataset.direction = row.direction;
    const cell = (label, main, detail, cls) => {
      const td = document.createElement("td");
      td.dataset.label = label;
      if (cls) td.className = cls;
      td.append(text(main));
      if (detail) {
        const small = document.createElement("small");
        small.textContent = detail;
        td.append(small);
      }
      tr.append(td);
      return td;
    };
    cell("Time", formatTime(row.time));
    cell("Direction", row.direction === "outgoing" ? "↑ out" : "↓ in", null, "dir");
    cell("Source", row.source, row.source_name);
    cell("Destination", row.destination, row.destination_name);
    cell("Service", row.service || "—");
    cell("Value", formatValue(row), row.dpt ? `DPT ${row.dpt}` : null, "value");
    const security = cell("Security", "");
    const badge = document.createElement("span");
    badge.className = `badge ${row.security}`;
    badge.textContent = SECURITY_LABEL[row.security] || row.security;
    security.append(badge);
    parent.append(tr);
    if (row.security === "rejected") {
      const why = document.createElement("tr");
      why.className = "why";
      const td = document.createElement("td");
      td.colSpan = 7;
      td.dataset.label = "Why";
      td.append(text(row.explanation));
      const advice = document.createElement("small");
      advice.textContent = row.advice ? `What to do in ETS: ${row.advice}` : "";
      td.append(advice);
      why.append(td);
      parent.append(why);
    }
  }

  _updateStatus() {
    const paused = this._paused ? " · paused" : "";
    const entries = this._info ? this._info.entries.length : 0;
    this._status.textContent =
      `${this._shown} of ${this._rows.length} telegrams shown · ${entries} gateway(s)${paused}`;
  }

  _togglePause() {
    this._paused = !this._paused;
    this.shadowRoot.getElementById("pause").textContent = this._paused ? "Resume" : "Pause";
    if (this._paused) this._updateStatus();
    else this._renderAll();
  }

  async _clear() {
    await this._hass.callWS({ type: `${PREFIX}/clear` });
    this._rows = [];
    this._renderAll();
  }

  _export() {
    const header = ["time", "direction", "source", "source_name", "destination",
      "destination_name", "service", "value", "dpt", "payload", "security", "reason",
      "explanation"];
    const lines = [header.join(",")];
    for (const row of this._shownRows().reverse()) {
      lines.push([new Date(row.time * 1000).toISOString(), row.direction, row.source,
        row.source_name, row.destination, row.destination_name, row.service,
        formatValue(row), row.dpt, row.payload, row.security, row.reason, row.explanation]
        .map(csvField).join(","));
    }
    const blob = new Blob([lines.join("\n") + "\n"], { type: "text/csv" });
    const link = document.createElement("a");
    link.href = URL.createObjectURL(blob);
    link.download = "knx-telegrams.csv";
    this.shadowRoot.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(link.href), 10000);
  }

  async _send() {
    const $ = (id) => this.shadowRoot.getElementById(id);
    const result = $("send-result");
    const message = {
      type: `${PREFIX}/send`,
      address: $("send-address").value.trim(),
      service: $("send-service").value,
    };
    if (message.service === "write") {
      const payload = $("send-payload").value.trim();
      if (payload) {
        message.payload = payload;
      } else {
        message.dpt = $("send-dpt").value.trim();
        const raw = $("send-value").value.trim();
        try {
          message.value = JSON.parse(raw);
        } catch (_err) {
          message.value = raw; // plain text: a string value, or a name like "comfort"
        }
      }
    }
    result.className = "";
    result.textContent = "Sending…";
    try {
      const answer = await this._hass.callWS(message);
      result.textContent = message.service === "read"
        ? `Answered by ${answer.source}.`
        : "Sent.";
    } catch (err) {
      result.className = "error";
      result.textContent = err.message || String(err);
    }
  }
}

if (!customElements.get("knx-secure-panel")) {
  customElements.define("knx-secure-panel", KnxSecurePanel);
}
