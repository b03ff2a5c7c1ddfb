// The KNX Secure group monitor: a plain web component (no imports, nothing from outside Home
// Assistant). Home Assistant sets `hass`; the rows come from the integration's websocket API
// (knx_secure/monitor/...). Colours are Home Assistant's theme variables (light and dark).

const MAX_ROWS = 5000; // rows kept in the page
const MAX_SHOWN = 300; // rows in the list (the newest that match the filters)
// At most four list updates a second: nobody reads 100 rows a second, and each update costs
// a style, layout and paint of the list; telegrams in between are added in one batch.
const RENDER_INTERVAL_MS = 250;
const FILTER_DELAY_MS = 150; // typing in a filter re-renders once the typing pauses
const PREFIX = "knx_secure/monitor";

// Text is always one of Home Assistant's text colours on one of its background colours (or
// on a light tint of a status colour over them), never white on a status colour: that keeps
// the WCAG contrast of the theme itself, light or dark. The status colours mark borders.
const STYLE = `
:host { display: flex; flex-direction: column; height: 100%; overflow: hidden;
  background: var(--primary-background-color); color: var(--primary-text-color);
  font-family: var(--paper-font-body1_-_font-family, sans-serif); font-size: 14px;
  --ok: var(--success-color, #43a047); --warn: var(--warning-color, #ffa600);
  --bad: var(--error-color, #db4437); --bg: var(--primary-background-color, #fafafa);
  --card: var(--card-background-color, #fff);
  --columns: 7.5em 4.5em minmax(0, 1fr) minmax(0, 1.3fr) 5.5em minmax(0, 1.2fr) 7.5em; }
header { display: flex; align-items: center; gap: 8px; padding: 8px 16px; flex-wrap: wrap;
  background: var(--app-header-background-color, var(--primary-color));
  color: var(--app-header-text-color, var(--text-primary-color, #fff)); min-height: 48px; }
header h1 { font-size: 20px; font-weight: 400; margin: 0 auto 0 0; }
header button.menu { display: none; background: none; border: none; font-size: 20px;
  color: inherit; padding: 4px 8px; }
:host([narrow]) header button.menu { display: inline-block; }
button { font: inherit; padding: 6px 12px; border-radius: 4px; cursor: pointer;
  border: 1px solid var(--divider-color); background: var(--card);
  color: var(--primary-text-color); }
button.primary { border: 2px solid var(--primary-color); padding: 5px 11px; font-weight: 500; }
.bar { display: flex; flex-wrap: wrap; gap: 8px; padding: 8px 16px; align-items: center;
  background: var(--card); border-bottom: 1px solid var(--divider-color); }
input, select, option { font: inherit; padding: 6px 8px; border-radius: 4px; min-width: 0;
  border: 1px solid var(--secondary-text-color); background: var(--bg);
  color: var(--primary-text-color); }
::placeholder { color: var(--secondary-text-color); opacity: 1; }
.bar input { width: 9em; } .bar input[type=search] { flex: 1 1 12em; }
.status { padding: 4px 16px; color: var(--secondary-text-color); font-size: 12px; }
/* The list's size comes from the panel, never from its rows: a new row lays out the list
   alone, not Home Assistant's page around it. */
.list { flex: 1 1 auto; min-height: 0; overflow: auto; contain: strict; }
.head, .row { display: grid; grid-template-columns: var(--columns); }
.head { position: sticky; top: 0; z-index: 1; background: var(--card); font-weight: 500;
  color: var(--secondary-text-color); border-bottom: 1px solid var(--divider-color); }
.cell { padding: 6px 8px; overflow-wrap: anywhere; }
/* Rows out of view are neither laid out nor painted: a new row costs the rows in view. */
.row { border-bottom: 1px solid var(--divider-color); content-visibility: auto;
  contain-intrinsic-size: auto 40px; }
.row.rejected { box-shadow: inset 4px 0 var(--bad); }
.cell small { display: block; color: var(--secondary-text-color); }
.value { font-family: var(--code-font-family, monospace); }
.badge { display: inline-block; border-radius: 10px; padding: 0 8px; font-size: 12px;
  white-space: nowrap; color: var(--primary-text-color); border: 1px solid; }
.badge.secure { border-color: var(--ok); background: color-mix(in srgb, var(--ok) 18%, var(--bg)); }
.badge.plain { border-color: var(--warn); background: color-mix(in srgb, var(--warn) 18%, var(--bg)); }
.badge.rejected { border-color: var(--bad); background: color-mix(in srgb, var(--bad) 18%, var(--bg)); }
.why { grid-column: 1 / -1; padding: 0 8px 6px; }
.why b { font-weight: 500; }
.why small { display: block; }
.dir { font-weight: 700; }
.empty { padding: 24px 16px; color: var(--secondary-text-color); max-width: 50em; }
#send { display: none; padding: 8px 16px; gap: 8px; flex-wrap: wrap; align-items: center;
  background: var(--card); border-bottom: 1px solid var(--divider-color); }
#send.open { display: flex; }
#send-result { flex-basis: 100%; font-size: 12px; }
#send-result:empty { display: none; }
#send-result.error { padding: 4px 8px; background: color-mix(in srgb, var(--bad) 12%, var(--card));
  box-shadow: inset 4px 0 var(--bad); }
@media (max-width: 600px) {
  .head { display: none; }
  .row { display: block; padding: 4px 0; contain-intrinsic-size: auto 200px; }
  .cell, .why { display: block; padding: 2px 16px; }
  .cell::before { content: attr(data-label) ": "; color: var(--secondary-text-color); }
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
  <button id="send-toggle" class="primary" aria-controls="send" aria-expanded="false">Send / read</button>
</header>
<div id="send" role="group" aria-label="Send or read">
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
<div class="status" id="status" role="status">Connecting…</div>
<div class="list" role="table" aria-label="Telegrams">
  <div class="head" role="row"><span class="cell" role="columnheader">Time</span><span
    class="cell" role="columnheader">Dir</span><span class="cell" role="columnheader">Source</span
    ><span class="cell" role="columnheader">Destination</span><span class="cell"
    role="columnheader">Service</span><span class="cell" role="columnheader">Value</span><span
    class="cell" role="columnheader">Security</span></div>
  <div id="rows" role="rowgroup"></div>
  <div id="empty" class="empty"></div>
</div>
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
    this._info = null;
    this._pending = 0; // rows added to _rows since the list was last updated
    this._renderTimer = null;
    this._filterTimer = null;
    this._lastRender = 0;
    this.attachShadow({ mode: "open" }).innerHTML = HTML;
    const $ = (id) => this.shadowRoot.getElementById(id);
    this._list = $("rows");
    this._status = $("status");
    this._empty = $("empty");
    $("menu").addEventListener("click", () =>
      this.dispatchEvent(new CustomEvent("hass-toggle-menu", { bubbles: true, composed: true })));
    $("pause").addEventListener("click", () => this._togglePause());
    $("clear").addEventListener("click", () => this._clear());
    $("export").addEventListener("click", () => this._export());
    $("send-toggle").addEventListener("click", () => this._toggleSend());
    $("send-go").addEventListener("click", () => this._send());
    for (const id of ["f-address", "f-source", "f-direction", "f-security", "f-text"]) {
      $(id).addEventListener("input", () => this._filtersChanged());
    }
  }

  set hass(hass) {
    this._hass = hass;
    // Native parts (select arrows, scroll bars, the search box's clear button) follow the
    // theme Home Assistant shows, which may differ from the browser's own preference.
    this.style.colorScheme = hass && hass.themes && hass.themes.darkMode ? "dark" : "light";
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
        (row) => (loaded ? this._add(row) : live.push(row)),
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

  // A telegram arrived: store it; the list takes it at its next update (per telegram, only
  // this constant work: nothing is filtered, built or laid out here).
  _add(row) {
    this._rows.push(row);
    this._trim();
    this._pending += 1;
    if (!this._paused) this._scheduleRender();
  }

  _trim() {
    if (this._rows.length > MAX_ROWS) this._rows.splice(0, this._rows.length - MAX_ROWS);
  }

  _scheduleRender() {
    if (this._renderTimer !== null) return;
    const wait = Math.max(0, this._lastRender + RENDER_INTERVAL_MS - performance.now());
    this._renderTimer = setTimeout(() => requestAnimationFrame(() => this._renderPending()), wait);
  }

  _cancelRender() {
    clearTimeout(this._renderTimer);
    this._renderTimer = null;
  }

  _filtersChanged() {
    clearTimeout(this._filterTimer);
    this._filterTimer = setTimeout(() => this._renderAll(), FILTER_DELAY_MS);
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

  // The newest rows (at most MAX_SHOWN) among the last `within` ones that match the filters,
  // newest first.
  _newestMatching(within) {
    const f = this._filters();
    const shown = [];
    const stop = Math.max(0, this._rows.length - within);
    for (let i = this._rows.length - 1; i >= stop && shown.length < MAX_SHOWN; i--) {
      if (this._matches(this._rows[i], f)) shown.push(this._rows[i]);
    }
    return shown;
  }

  _shownRows() {
    return this._newestMatching(this._rows.length);
  }

  _renderAll() {
    this._cancelRender();
    clearTimeout(this._filterTimer);
    this._filterTimer = null;
    this._pending = 0;
    this._lastRender = performance.now();
    const fragment = document.createDocumentFragment();
    for (const row of this._shownRows()) fragment.append(rowElement(row));
    this._list.replaceChildren(fragment);
    this._updateStatus();
  }

  // The list's update with what arrived since the last one: the new matching rows go on
  // top, the oldest beyond MAX_SHOWN go away; the rows in between stay as they are.
  _renderPending() {
    this._renderTimer = null;
    if (this._paused) return;
    const fresh = this._newestMatching(Math.min(this._pending, this._rows.length));
    this._pending = 0;
    this._lastRender = performance.now();
    if (fresh.length) {
      const fragment = document.createDocumentFragment();
      for (const row of fresh) fragment.append(rowElement(row));
      this._list.prepend(fragment);
      while (this._list.childElementCount > MAX_SHOWN) this._list.lastElementChild.remove();
    }
    this._updateStatus();
  }

  _updateStatus() {
    const shown = this._list.childElementCount;
    const paused = this._paused ? " · paused" : "";
    const entries = this._info ? this._info.entries.length : 0;
    this._status.textContent =
      `${shown} of ${this._rows.length} telegrams shown · ${entries} gateway(s)${paused}`;
    this._empty.textContent = shown ? "" : this._emptyText(entries);
    this._empty.hidden = shown > 0;
  }

  _emptyText(entries) {
    if (!entries) {
      return "No KNX Secure gateway is set up yet. Add one under Settings → Devices & services " +
        "→ Add integration → KNX Secure; its telegrams appear here.";
    }
    if (this._rows.length) return "No telegram matches the filters.";
    return "No telegrams yet. They appear here as they travel on the bus: press a button in " +
      "the installation, read or write an address with Send / read, or add an entity to the " +
      "gateway (Settings → Devices & services → KNX Secure → Add switch, …) and switch it.";
  }

  _togglePause() {
    // What is paused is what the filters typed so far show.
    if (!this._paused && this._filterTimer !== null) this._renderAll();
    this._paused = !this._paused;
    this.shadowRoot.getElementById("pause").textContent = this._paused ? "Resume" : "Pause";
    if (this._paused) {
      this._cancelRender();
      this._updateStatus();
    } else {
      this._renderAll();
    }
  }

  _toggleSend() {
    const open = this.shadowRoot.getElementById("send").classList.toggle("open");
    this.shadowRoot.getElementById("send-toggle").setAttribute("aria-expanded", String(open));
    if (open) this.shadowRoot.getElementById("send-address").focus();
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

// One telegram as a row of the list: seven cells and, for a rejected one, the reason and
// what to do in ETS across the whole row.
function rowElement(row) {
  const element = document.createElement("div");
  element.className = `row ${row.security}`;
  element.setAttribute("role", "row");
  element.dataset.direction = row.direction;
  const cell = (label, main, detail, cls) => {
    const span = document.createElement("span");
    span.className = cls ? `cell ${cls}` : "cell";
    span.setAttribute("role", "cell");
    span.dataset.label = label;
    span.append(text(main));
    if (detail) {
      const small = document.createElement("small");
      small.textContent = detail;
      span.append(small);
    }
    element.append(span);
    return span;
  };
  cell("Time", formatTime(row.time));
  cell("Direction", row.direction === "outgoing" ? "↑ out" : "↓ in", null, "dir");
  cell("Source", row.source, row.source_name);
  cell("Destination", row.destination, row.destination_name);
  cell("Service", row.service || "—");
  cell("Value", formatValue(row), row.dpt ? `DPT ${row.dpt}` : null, "value");
  const badge = document.createElement("span");
  badge.className = `badge ${row.security}`;
  badge.textContent = SECURITY_LABEL[row.security] || row.security;
  cell("Security", "").append(badge);
  if (row.security === "rejected") {
    const why = document.createElement("div");
    why.className = "why";
    why.setAttribute("role", "cell");
    const reason = document.createElement("b");
    reason.textContent = text(row.explanation);
    why.append(reason);
    if (row.advice) {
      const advice = document.createElement("small");
      advice.textContent = `What to do in ETS: ${row.advice}`;
      why.append(advice);
    }
    element.append(why);
  }
  return element;
}

if (!customElements.get("knx-secure-panel")) {
  customElements.define("knx-secure-panel", KnxSecurePanel);
}
