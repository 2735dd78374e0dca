// Clinician page: variant, HGVS and gene questions with cohort filters, answered per dataset (and per member
// beacon when served by a network aggregator, read as an NDJSON stream), allele frequencies drawn as SVG bars.
"use strict";

const NDJSON = "application/x-ndjson";
const TOKEN_KEY = "beacon.bearerToken";
const SVG = "http://www.w3.org/2000/svg";
const MAX_OPTIONS = 12;
const MAX_BARS = 30;
const PAGE_LIMIT = 20;

// The token lives in this variable and in sessionStorage (this tab only), never in localStorage or cookies.
const state = {
  token: sessionStorage.getItem(TOKEN_KEY) || "",
  network: false,
  terms: [],
  chosen: [],
  matches: [],
  active: -1,
};

const $ = (id) => document.getElementById(id);

function authHeaders(auth) {
  return auth && state.token ? { Authorization: `Bearer ${state.token}` } : {};
}

async function* ndjsonLines(body) {
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += value;
    let end;
    while ((end = buffer.indexOf("\n")) >= 0) {
      const line = buffer.slice(0, end).trim();
      buffer = buffer.slice(end + 1);
      if (line) yield JSON.parse(line);
    }
  }
  if (buffer.trim()) yield JSON.parse(buffer);
}

// One call to the Beacon API. A beacon answers JSON; an aggregator answers NDJSON (one line per member as it
// answers, then {"merged": ...}), which is how the page learns it is talking to a network.
async function beaconCall(path, { body = null, auth = true, onMember = null } = {}) {
  const init = { method: body ? "POST" : "GET", headers: { Accept: `${NDJSON}, application/json`, ...authHeaders(auth) } };
  if (body) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  const response = await fetch(path, init);
  const type = response.headers.get("Content-Type") || "";
  if (!type.includes(NDJSON)) {
    return { status: response.status, document: await response.json(), members: null };
  }
  showNetwork();
  const members = [];
  let merged = null;
  for await (const line of ndjsonLines(response.body)) {
    if ("merged" in line) {
      merged = line.merged;
    } else {
      members.push(line);
      if (onMember) onMember(line);
    }
  }
  return { status: response.status, document: merged, members };
}

function showNetwork() {
  state.network = true;
  $("network-badge").hidden = false;
}

async function beaconInfo() {
  const { document: doc } = await beaconCall("/api/info", { auth: false });
  const info = doc.response || {};
  $("beacon-name").textContent = info.name || "Beacon v2";
  $("beacon-description").textContent = info.description || "";
  document.title = info.name || "Beacon v2";
}

// -- access: token and datasets ----------------------------------------------------------------

function tokenStatus(text) {
  $("token-status").textContent = text;
}

function describeToken() {
  tokenStatus(state.token ? "A token is in use (kept in this browser tab only)." : "No token: you see public datasets only.");
}

function collectionsOf(doc) {
  return (doc && doc.response && doc.response.collections) || [];
}

async function queryable(datasetId, auth) {
  const query = new URLSearchParams({ datasetIds: datasetId, requestedGranularity: "boolean" });
  const response = await fetch(`/api/individuals?${query}`, { headers: authHeaders(auth) });
  await response.text();
  return response.ok;
}

// The API reports the beacon's security levels (/configuration) and the datasets a caller may see
// (/datasets); with one level every dataset has it, with several a dataset anyone may query is PUBLIC.
async function datasetRows(levels) {
  const listing = "/api/datasets?requestedGranularity=record&limit=1000";
  const anonymous = await beaconCall(listing, { auth: false });
  if (anonymous.members) return networkDatasetRows(anonymous.members);
  const listed = new Map(collectionsOf(anonymous.document).map((d) => [d.id, d]));
  if (state.token) {
    const withToken = await beaconCall(listing);
    if (withToken.status === 401 || withToken.status === 403) tokenStatus("The beacon did not accept the token.");
    // The token's view wins: it says what this caller may get.
    for (const d of collectionsOf(withToken.document)) listed.set(d.id, d);
  }
  const restricted = levels.filter((level) => level !== "PUBLIC");
  const rows = [];
  for (const d of listed.values()) {
    const described = d.info && d.info.beaconAccess;
    if (described) {
      // This beacon describes each dataset's level and what the caller may get (info.beaconAccess).
      const who = described.securityLevel === "public" ? "anyone" : "with your token";
      const access = described.queryable
        ? `yes, ${who} (answers up to ${described.granularity} level)`
        : state.token ? "no, not with your token" : "no: needs a token";
      rows.push({ id: d.id, name: d.name || "", level: described.securityLevel.toUpperCase(), access });
      continue;
    }
    let level = levels.length === 1 ? levels[0] : null;
    const anyone = level === "PUBLIC" || (level === null && (await queryable(d.id, false)));
    if (level === null) level = anyone ? "PUBLIC" : restricted.join(" or ") || "restricted";
    let access = anyone ? "yes, anyone" : "no: needs a token";
    if (!anyone && state.token) access = (await queryable(d.id, true)) ? "yes, with your token" : "no, not with your token";
    rows.push({ id: d.id, name: d.name || "", level, access });
  }
  return rows;
}

function networkDatasetRows(members) {
  const rows = [];
  for (const member of members) {
    for (const d of collectionsOf(member.response)) {
      rows.push({ id: `${member.memberId}:${d.id}`, name: d.name || "", level: "set by the member beacon", access: "listed" });
    }
  }
  return rows;
}

async function loadDatasets() {
  const body = $("datasets-table").querySelector("tbody");
  const { document: config } = await beaconCall("/api/configuration", { auth: false });
  const attributes = (config.response && config.response.securityAttributes) || {};
  const levels = attributes.securityLevels || ["PUBLIC"];
  const rows = await datasetRows(levels);
  body.replaceChildren();
  for (const row of rows) {
    const tr = body.insertRow();
    tr.dataset.dataset = row.id;
    const th = document.createElement("th");
    th.scope = "row";
    th.textContent = row.id;
    tr.append(th);
    tr.insertCell().textContent = row.name;
    const level = tr.insertCell();
    level.className = "level";
    level.textContent = row.level;
    tr.insertCell().textContent = row.access;
  }
  const note = state.network
    ? "A beacon network: each member beacon decides who may see its datasets."
    : `Security levels on this beacon: ${levels.join(", ")}.`;
  $("datasets-note").textContent = rows.length ? note : `No dataset is visible to you. ${note}`;
}

async function applyToken(token) {
  state.token = token;
  if (token) sessionStorage.setItem(TOKEN_KEY, token);
  else sessionStorage.removeItem(TOKEN_KEY);
  describeToken();
  await Promise.all([loadDatasets(), loadTerms()]);
}

$("token-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const token = $("token").value.trim().replace(/^Bearer\s+/i, "");
  $("token").value = "";
  applyToken(token);
});

$("token-forget").addEventListener("click", () => {
  $("token").value = "";
  applyToken("");
});

// -- cohort filters: a combobox over /api/filtering_terms ------------------------------------

async function loadTerms() {
  const { document: doc } = await beaconCall("/api/filtering_terms");
  state.terms = ((doc && doc.response && doc.response.filteringTerms) || []).filter((t) => t.id);
}

function termText(term) {
  return term.label ? `${term.label} (${term.id})` : term.id;
}

function closeOptions() {
  state.matches = [];
  state.active = -1;
  $("filter-options").hidden = true;
  $("filter-options").replaceChildren();
  $("filter-input").setAttribute("aria-expanded", "false");
  $("filter-input").removeAttribute("aria-activedescendant");
}

function renderOptions() {
  const list = $("filter-options");
  list.replaceChildren();
  state.matches.forEach((term, i) => {
    const li = document.createElement("li");
    li.id = `filter-option-${i}`;
    li.setAttribute("role", "option");
    li.setAttribute("aria-selected", String(i === state.active));
    li.dataset.termId = term.id;
    li.textContent = termText(term);
    li.addEventListener("mousedown", (event) => event.preventDefault()); // keep focus in the input
    li.addEventListener("click", () => choose(term));
    list.append(li);
  });
  const open = state.matches.length > 0;
  list.hidden = !open;
  $("filter-input").setAttribute("aria-expanded", String(open));
  if (state.active >= 0) $("filter-input").setAttribute("aria-activedescendant", `filter-option-${state.active}`);
  else $("filter-input").removeAttribute("aria-activedescendant");
}

function search(text) {
  const q = text.trim().toLowerCase();
  if (!q) return [];
  const chosen = new Set(state.chosen.map((t) => t.id));
  const hits = state.terms.filter(
    (t) => !chosen.has(t.id) && (t.id.toLowerCase().includes(q) || (t.label || "").toLowerCase().includes(q)),
  );
  const rank = (t) => ((t.label || "").toLowerCase().startsWith(q) || t.id.toLowerCase().startsWith(q) ? 0 : 1);
  hits.sort((a, b) => rank(a) - rank(b) || (a.label || a.id).length - (b.label || b.id).length);
  return hits.slice(0, MAX_OPTIONS);
}

function choose(term) {
  if (!state.chosen.some((t) => t.id === term.id)) state.chosen.push(term);
  $("filter-input").value = "";
  closeOptions();
  renderChosen();
  $("filter-input").focus();
}

function renderChosen() {
  const list = $("chosen-filters");
  list.replaceChildren();
  for (const term of state.chosen) {
    const li = document.createElement("li");
    li.dataset.termId = term.id;
    li.append(termText(term), " ");
    const remove = document.createElement("button");
    remove.type = "button";
    remove.textContent = "×";
    remove.setAttribute("aria-label", `Remove filter ${termText(term)}`);
    remove.addEventListener("click", () => {
      state.chosen = state.chosen.filter((t) => t.id !== term.id);
      renderChosen();
      $("filter-input").focus();
    });
    li.append(remove);
    list.append(li);
  }
}

$("filter-input").addEventListener("input", (event) => {
  state.matches = search(event.target.value);
  state.active = -1;
  renderOptions();
});

$("filter-input").addEventListener("keydown", (event) => {
  const open = state.matches.length > 0;
  if (event.key === "ArrowDown" || event.key === "ArrowUp") {
    if (!open) state.matches = search(event.target.value);
    if (!state.matches.length) return;
    event.preventDefault();
    const step = event.key === "ArrowDown" ? 1 : -1;
    state.active = (state.active + step + state.matches.length) % state.matches.length;
    renderOptions();
  } else if (event.key === "Enter" && open) {
    event.preventDefault(); // choosing a term must not submit the question
    choose(state.matches[Math.max(state.active, 0)]);
  } else if (event.key === "Escape" && open) {
    event.preventDefault();
    closeOptions();
  }
});

$("filter-input").addEventListener("blur", closeOptions);

// -- the question ---------------------------------------------------------------------------

function currentMode() {
  return new FormData($("query-form")).get("mode");
}

function showMode() {
  const mode = currentMode();
  for (const fieldset of document.querySelectorAll("fieldset[data-mode]")) {
    const active = fieldset.dataset.mode === mode;
    fieldset.hidden = !active;
    fieldset.disabled = !active;
  }
}

for (const radio of document.querySelectorAll('input[name="mode"]')) radio.addEventListener("change", showMode);

// Request parameters and a readable question for the chosen lookup.
function question(form) {
  const mode = form.get("mode");
  if (mode === "hgvs") {
    const hgvs = form.get("hgvs").trim();
    return { parameters: { genomicAlleleShortForm: hgvs }, text: hgvs };
  }
  if (mode === "gene") {
    const gene = form.get("geneId").trim();
    return { parameters: { geneId: gene }, text: `Variants in ${gene}` };
  }
  const position = form.get("position").trim();
  const parameters = {
    assemblyId: form.get("assemblyId"),
    referenceName: form.get("referenceName").trim(),
    // The page takes VCF's 1-based position; Beacon start is 0-based.
    start: [Number(position) - 1],
    alternateBases: form.get("alternateBases").trim().toUpperCase(),
  };
  const ref = form.get("referenceBases").trim().toUpperCase();
  if (ref) parameters.referenceBases = ref;
  return { parameters, text: `${parameters.referenceName}:${position} ${ref || "?"}>${parameters.alternateBases}` };
}

function requestBody(parameters) {
  // Terms scoped to other entry types (individuals, biosamples) select the variants of matching people.
  const filters = state.chosen.map((term) => {
    const scope = (term.scopes || [])[0];
    return scope && !scope.startsWith("genomicVari") ? { id: term.id, scope } : { id: term.id };
  });
  return {
    meta: { apiVersion: "v2.0.0" },
    query: {
      requestParameters: parameters,
      filters,
      requestedGranularity: "record",
      includeResultsetResponses: "ALL",
      pagination: { skip: 0, limit: PAGE_LIMIT },
    },
  };
}

function summarise(doc, text) {
  const summary = $("answer-summary");
  if (!doc) {
    summary.textContent = `${text}: no answer.`;
    return;
  }
  if (doc.error) {
    summary.textContent = `The beacon could not answer: ${doc.error.errorMessage}`;
    return;
  }
  const total = doc.responseSummary.numTotalResults;
  const count = total === undefined ? "" : ` (${total} ${total === 1 ? "variant" : "variants"})`;
  summary.textContent = doc.responseSummary.exists
    ? `${text}: found${count}.`
    : `${text}: not found in any dataset you may query${count}.`;
  summary.dataset.exists = String(doc.responseSummary.exists);
  if (total !== undefined) summary.dataset.total = String(total);
}

function memberRow(line) {
  const body = $("members-table").querySelector("tbody");
  const tr = body.insertRow();
  tr.dataset.member = line.memberId;
  const th = document.createElement("th");
  th.scope = "row";
  th.textContent = line.memberId;
  tr.append(th);
  tr.insertCell().textContent = line.message ? `${line.outcome}: ${line.message}` : line.outcome;
  tr.insertCell().textContent = String(line.latencyMs);
  const summary = (line.response && line.response.responseSummary) || null;
  tr.insertCell().textContent = summary ? (summary.exists ? "yes" : "no") : "–";
  tr.insertCell().textContent = summary && summary.numTotalResults !== undefined ? String(summary.numTotalResults) : "–";
  $("members-table").hidden = false;
  $("answer-summary").textContent = `${body.rows.length} ${body.rows.length === 1 ? "beacon has" : "beacons have"} answered…`;
}

function datasetTable(doc) {
  const table = $("answer-table");
  const body = table.querySelector("tbody");
  body.replaceChildren();
  const sets = (doc && !doc.error && doc.response && doc.response.resultSets) || [];
  for (const set of sets) {
    const tr = body.insertRow();
    tr.dataset.dataset = set.id;
    const th = document.createElement("th");
    th.scope = "row";
    th.textContent = set.id;
    tr.append(th);
    tr.insertCell().textContent = set.exists ? "yes" : "no";
    tr.insertCell().textContent = set.resultsCount === undefined ? "–" : String(set.resultsCount);
  }
  table.hidden = sets.length === 0;
  return sets;
}

function bars(results) {
  const out = [];
  for (const variant of results) {
    const name = (variant.identifiers && variant.identifiers.genomicHGVSId) || variant.variantInternalId || "variant";
    for (const source of variant.frequencyInPopulations || []) {
      for (const f of source.frequencies || []) {
        if (typeof f.alleleFrequency === "number") out.push({ label: `${name} · ${f.population}`, value: f.alleleFrequency });
      }
    }
  }
  return out;
}

function svgElement(name, attributes, text) {
  const element = document.createElementNS(SVG, name);
  for (const [key, value] of Object.entries(attributes)) element.setAttribute(key, String(value));
  if (text !== undefined) element.textContent = text;
  return element;
}

// A horizontal bar per variant and population, scaled to the largest frequency shown.
function frequencyChart(setId, data, note) {
  const shown = data.slice(0, MAX_BARS);
  const row = 22;
  // About 7 px per character at the chart's 12 px font, so HGVS labels are not clipped.
  const labelWidth = Math.min(480, Math.max(120, 10 + 7 * Math.max(...shown.map((d) => d.label.length))));
  const barWidth = 230;
  const width = labelWidth + barWidth + 80;
  const height = shown.length * row + 8;
  const top = Math.max(...shown.map((d) => d.value)) || 1;
  const figure = document.createElement("figure");
  figure.className = "chart";
  figure.dataset.dataset = setId;
  const caption = document.createElement("figcaption");
  caption.id = `chart-${setId}`;
  const more = data.length > shown.length ? `, first ${shown.length} of ${data.length} bars` : "";
  caption.textContent = `Allele frequency by population in ${setId}${note}${more}`;
  const svg = svgElement("svg", { viewBox: `0 0 ${width} ${height}`, width, height, role: "img", "aria-labelledby": caption.id });
  svg.append(svgElement("title", {}, shown.map((d) => `${d.label}: ${d.value.toPrecision(3)}`).join("; ")));
  shown.forEach((d, i) => {
    const y = 4 + i * row;
    const length = Math.max(1, (d.value / top) * barWidth);
    const group = svgElement("g", { class: "bar" });
    group.dataset.value = String(d.value);
    group.append(svgElement("text", { x: labelWidth - 8, y: y + 14, "text-anchor": "end" }, d.label));
    group.append(svgElement("rect", { x: labelWidth, y: y + 2, width: length, height: row - 6 }));
    group.append(svgElement("text", { x: labelWidth + length + 6, y: y + 14 }, d.value.toPrecision(3)));
    svg.append(group);
  });
  figure.append(caption, svg);
  return figure;
}

function drawCharts(sets) {
  const charts = $("charts");
  charts.replaceChildren();
  for (const set of sets) {
    const results = set.results || [];
    const data = bars(results);
    const note = set.resultsCount > results.length ? ` (the first ${results.length} of ${set.resultsCount} variants)` : "";
    if (data.length) charts.append(frequencyChart(set.id, data, note));
  }
}

$("query-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const formElement = event.target;
  const error = $("form-error");
  if (!formElement.checkValidity()) {
    const invalid = formElement.querySelector(":invalid");
    const label = invalid.labels && invalid.labels[0] ? invalid.labels[0].textContent : invalid.name;
    error.textContent = `${label}: ${invalid.validationMessage}`;
    invalid.focus();
    return;
  }
  error.textContent = "";
  const { parameters, text } = question(new FormData(formElement));
  $("members-table").querySelector("tbody").replaceChildren();
  $("members-table").hidden = true;
  $("answer-table").hidden = true;
  $("charts").replaceChildren();
  delete $("answer-summary").dataset.total;
  delete $("answer-summary").dataset.exists;
  $("answer-summary").textContent = `Asking: ${text}…`;
  $("answer-request").textContent = `POST /api/g_variants ${JSON.stringify(requestBody(parameters).query)}`;
  try {
    const { document: doc } = await beaconCall("/api/g_variants", { body: requestBody(parameters), onMember: memberRow });
    summarise(doc, text);
    const sets = datasetTable(doc);
    // Record-level answers only: a count or boolean answer carries no frequencies to draw.
    if (doc && doc.meta && doc.meta.returnedGranularity === "record") drawCharts(sets);
  } catch (exc) {
    $("answer-summary").textContent = `The beacon could not be reached: ${exc.message}`;
  }
});

async function start() {
  describeToken();
  showMode();
  await beaconInfo();
  await Promise.all([loadDatasets(), loadTerms()]);
  document.body.dataset.ready = "true";
}

start().catch((exc) => {
  tokenStatus(`The beacon could not be reached: ${exc.message}`);
});
