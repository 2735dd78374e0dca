// Clinician page: a question by position, HGVS, gene or rs number (with cohort filters) asked of
// /api/g_variants, answered per dataset (found / not found / not allowed / not searched), variant cards,
// population tables and charts, in the visitor's language. Per member beacon too when served by an aggregator.
"use strict";

import { beaconCall, curlCommand, queryBody, rememberToken, session } from "./api.js";
import { datasetStatuses, memberRow, openCard, renderStatuses, summarise, variantList, variantsOf } from "./answers.js";
import { chosenFilters, filters, labelOf, loadTerms, renderChosen, termText, wireFilters } from "./filters.js";
import { formatDate, initialLanguage, setLanguage, t, translateDocument } from "./i18n.js";
import { drawPopulations } from "./populations.js";
import { validate } from "./validation.js";

const PAGE_LIMIT = 10;
const MAX_CARDS = 5;
const $ = (id) => document.getElementById(id);

// What the page knows between questions: the datasets listed to this caller, and the last question asked.
const page = { datasets: new Map(), levels: ["PUBLIC"], asked: null, lastRender: null };

function showNetwork() {
  $("network-badge").hidden = false;
}
session.onNetwork = showNetwork;

async function beaconInfo() {
  const { document: doc } = await beaconCall("/api/info", { auth: false });
  const info = (doc && doc.response) || {};
  $("beacon-name").textContent = info.name || "Beacon v2";
  $("beacon-description").textContent = info.description || "";
  document.title = info.name || "Beacon v2";
}

// -- access: token and datasets ----------------------------------------------------------------

function describeToken() {
  $("token-status").textContent = t(session.token ? "access.tokenInUse" : "access.noToken");
}

const collectionsOf = (doc) => (doc && doc.response && doc.response.collections) || [];

// The API reports each dataset's level and what the caller may get (info.beaconAccess), and its assembly.
async function loadDatasets() {
  const listing = "/api/datasets?requestedGranularity=record&limit=1000";
  const { document: config } = await beaconCall("/api/configuration", { auth: false });
  page.levels = ((config && config.response && config.response.securityAttributes) || {}).securityLevels || ["PUBLIC"];
  const anonymous = await beaconCall(listing, { auth: false });
  const listed = new Map();
  if (anonymous.members) {
    for (const member of anonymous.members) {
      for (const d of collectionsOf(member.response)) listed.set(`${member.memberId}:${d.id}`, { ...d, member: true });
    }
  } else {
    for (const d of collectionsOf(anonymous.document)) listed.set(d.id, d);
    if (session.token) {
      const withToken = await beaconCall(listing);
      if (withToken.status === 401 || withToken.status === 403) $("token-status").textContent = t("access.tokenRejected");
      for (const d of collectionsOf(withToken.document)) listed.set(d.id, d); // the token's view wins
    }
  }
  page.datasets = listed;
  renderDatasets();
}

function accessText(d) {
  if (d.member) return t("access.listed");
  const described = d.info && d.info.beaconAccess;
  if (!described) return t("access.unknown");
  if (described.queryable) {
    const who = t(described.securityLevel === "public" ? "access.anyone" : "access.withToken");
    return t("access.yes", { who, granularity: t(`granularity.${described.granularity}`) });
  }
  return t(session.token ? "access.notWithToken" : "access.needsToken");
}

function renderDatasets() {
  const body = $("datasets-table").querySelector("tbody");
  body.replaceChildren();
  for (const [id, d] of page.datasets) {
    const tr = body.insertRow();
    tr.dataset.dataset = id;
    const th = document.createElement("th");
    th.scope = "row";
    th.textContent = id;
    tr.append(th);
    tr.insertCell().textContent = d.name || "";
    const described = d.info && d.info.beaconAccess;
    const level = tr.insertCell();
    level.className = "level";
    level.textContent = described ? described.securityLevel.toUpperCase() : d.member ? t("access.memberLevel") : "";
    tr.insertCell().textContent = accessText(d);
    tr.insertCell().textContent = d.updateDateTime ? formatDate(d.updateDateTime) : "–";
  }
  const note = session.network ? t("access.networkNote") : t("access.levels", { levels: page.levels.join(", ") });
  $("datasets-note").textContent = page.datasets.size ? note : `${t("access.noDatasets")} ${note}`;
}

async function applyToken(token) {
  rememberToken(token);
  describeToken();
  await Promise.all([loadDatasets(), loadTerms()]);
}

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

// HGNC symbols are upper case except the "orf" of C…orf… genes, so `stxbp1` asks for STXBP1.
export function hgncCase(symbol) {
  return symbol.trim().toUpperCase().replace(/^(C\d+|CX|CY)ORF(\d+)$/, "$1orf$2");
}

// Request parameters, filters and a readable question for the chosen lookup (already validated).
function question(form) {
  const mode = form.get("mode");
  const assemblyId = form.get("assemblyId");
  const extra = chosenFilters();
  if (mode === "hgvs") {
    const hgvs = form.get("hgvs").trim();
    return { mode, parameters: { assemblyId, genomicAlleleShortForm: hgvs }, filters: extra, text: hgvs };
  }
  if (mode === "gene") {
    const gene = hgncCase(form.get("geneId"));
    return { mode, parameters: { assemblyId, geneId: gene }, filters: extra, text: t("question.gene", { gene }) };
  }
  if (mode === "rs") {
    const rs = form.get("rsId").trim().toLowerCase().replace(/^(dbsnp:)?(rs)?/, "rs");
    // rs numbers are identifiers (identifiers.variantAlternativeIds), found by an alphanumeric filter.
    const byId = { id: "identifiers.variantAlternativeIds.id", operator: "=", value: `dbSNP:${rs}` };
    return { mode, parameters: { assemblyId }, filters: [byId, ...extra], text: rs };
  }
  const position = form.get("position").trim();
  const parameters = {
    assemblyId,
    referenceName: form.get("referenceName").trim().replace(/^chr/i, ""),
    // The page takes VCF's 1-based position; Beacon start is 0-based.
    start: [Number(position) - 1],
    alternateBases: form.get("alternateBases").trim().toUpperCase(),
  };
  const ref = form.get("referenceBases").trim().toUpperCase();
  if (ref) parameters.referenceBases = ref;
  const text = `${parameters.referenceName}:${position} ${ref || "?"}>${parameters.alternateBases} (${assemblyId})`;
  return { mode, parameters, filters: extra, text };
}

function requestBody(asked, pageIndex) {
  return queryBody({
    requestParameters: asked.parameters,
    filters: asked.filters,
    requestedGranularity: "record",
    includeResultsetResponses: "ALL",
    pagination: { skip: pageIndex, limit: PAGE_LIMIT },
  });
}

function clearAnswer() {
  $("members-table").querySelector("tbody").replaceChildren();
  $("members-table").hidden = true;
  $("answer-table").hidden = true;
  for (const id of ["variant-list", "cards", "populations", "charts"]) $(id).replaceChildren();
  const summary = $("answer-summary");
  delete summary.dataset.total;
  delete summary.dataset.exists;
  delete summary.dataset.state;
  summary.removeAttribute("data-i18n");
  summary.textContent = "";
  $("request-tools").hidden = true;
  $("copy-status").textContent = "";
}

function showRequest(body) {
  $("answer-request").textContent = `POST /api/g_variants\n${JSON.stringify(body, null, 2)}`;
  $("copy-curl").onclick = async () => {
    try {
      await navigator.clipboard.writeText(curlCommand("/api/g_variants", body));
      $("copy-status").textContent = t("request.copied");
    } catch {
      $("copy-status").textContent = t("request.copyFailed");
    }
  };
  $("request-tools").hidden = false;
}

async function render(doc, asked, pageIndex) {
  const summary = $("answer-summary");
  if (!doc) {
    summary.textContent = t("answer.noAnswer", { question: asked.text });
    summary.dataset.state = "error";
    return;
  }
  if (doc.error) {
    summary.textContent = t("answer.error", { message: doc.error.errorMessage });
    summary.dataset.state = "error";
    return;
  }
  const statuses = datasetStatuses(doc, page.datasets);
  summarise(doc, asked, statuses);
  renderStatuses(statuses);
  if (!doc.meta || doc.meta.returnedGranularity !== "record") return;
  const sets = (doc.response && doc.response.resultSets) || [];
  const groups = variantsOf(doc, page.datasets, asked.parameters.assemblyId);
  const floored = doc.responseSummary.countPrecision === "rounded";
  const chosen = filters.chosen;
  if (asked.mode === "gene" || groups.length > MAX_CARDS) {
    const goTo = (target) => ask(asked, target);
    variantList(groups, doc, { pageIndex, pageLimit: PAGE_LIMIT, floored, chosen, goTo });
  } else {
    for (const entries of groups) await openCard(entries, false, floored, chosen);
  }
  drawPopulations(sets, filters.chosen.map((term) => term.label || labelOf(term.id) || termText(term)));
}

async function ask(asked, pageIndex) {
  clearAnswer();
  page.asked = asked;
  page.lastRender = null;
  $("answer-summary").textContent = t("answer.asking", { question: asked.text });
  const body = requestBody(asked, pageIndex);
  showRequest(body);
  try {
    const { document: doc } = await beaconCall("/api/g_variants", { body, onMember: memberRow });
    // A language change draws this answer again rather than asking again.
    page.lastRender = async () => {
      clearAnswer();
      showRequest(body);
      await render(doc, asked, pageIndex);
    };
    await render(doc, asked, pageIndex);
  } catch (exc) {
    $("answer-summary").textContent = t("answer.unreachable", { message: exc.message });
    $("answer-summary").dataset.state = "error";
  }
}

function wireForm() {
  for (const radio of document.querySelectorAll('input[name="mode"]')) radio.addEventListener("change", showMode);
  $("query-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const form = event.target;
    clearAnswer();
    const invalid = validate(form, currentMode());
    if (invalid.length) {
      $("form-error").textContent = t("form.fix", { count: invalid.length });
      $("answer-summary").textContent = t("answer.none");
      invalid[0].focus();
      return;
    }
    $("form-error").textContent = "";
    await ask(question(new FormData(form)), 0);
  });
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
  $("language").addEventListener("change", async (event) => {
    await setLanguage(event.target.value, true);
    retranslate();
  });
}

// After a language change: static texts, then everything drawn from the last answer, drawn again.
function retranslate() {
  translateDocument();
  describeToken();
  renderDatasets();
  renderChosen();
  if (page.lastRender) page.lastRender();
}

async function start() {
  const lang = initialLanguage();
  await setLanguage(lang, false);
  $("language").value = lang;
  describeToken();
  showMode();
  wireForm();
  wireFilters();
  await beaconInfo();
  await Promise.all([loadDatasets(), loadTerms()]);
  document.body.dataset.ready = "true";
}

start().catch((exc) => {
  $("token-status").textContent = t("answer.unreachable", { message: exc.message });
});
