// The variant card: what the variant is (position, HGVS, gene, effect, identifiers, clinical annotations as
// stored), links out, and per dataset the caller may query its presence, carriers and carriers' most frequent
// phenotypes and diseases. Every count shown is a count the API answered (floors and rounding applied there).
"use strict";

import { beaconCall, queryBody } from "./api.js";
import { formatNumber, t } from "./i18n.js";
import { ontologyLink, rsNumbers, variantLinks } from "./links.js";

const MAX_TERMS = 6;

function el(name, attributes = {}, ...children) {
  const element = document.createElement(name);
  for (const [key, value] of Object.entries(attributes)) {
    if (key === "class") element.className = value;
    else if (key.startsWith("data-")) element.dataset[key.slice(5).replace(/-(\w)/g, (_, c) => c.toUpperCase())] = value;
    else element.setAttribute(key, value);
  }
  element.append(...children.filter((child) => child !== null && child !== undefined));
  return element;
}

function termNode(term) {
  const id = term.id || "";
  const text = term.label ? `${term.label} (${id})` : id;
  const href = ontologyLink(id);
  return href ? el("a", { href, rel: "noopener noreferrer", target: "_blank" }, text) : document.createTextNode(text);
}

// Position as the card shows it: chromosome, VCF-style 1-based position and alleles on `assembly`.
export function siteOf(variant, assembly) {
  const v = variant.variation || {};
  const location = v.location || {};
  const interval = location.interval || {};
  const start = interval.start && typeof interval.start.value === "number" ? interval.start.value : null;
  const stop = interval.end && typeof interval.end.value === "number" ? interval.end.value : null;
  const chrom = String(variant.variantInternalId || "").split(":")[0] || null;
  return {
    assembly,
    chrom,
    pos: start === null ? null : start + 1,
    end: stop === null ? null : stop,
    ref: v.referenceBases || "",
    alt: v.alternateBases || "",
    type: v.variantType || "",
  };
}

export function variantKey(variant) {
  return variant.variantInternalId || (variant.identifiers || {}).genomicHGVSId || JSON.stringify(variant.variation);
}

// Per-carrier values (calls) are left out where the API rounds counts: a list of calls would count the carriers.
function calls(variant, floored) {
  return floored ? [] : variant.caseLevelData || [];
}

// Distinct condition terms stored with the variant (variant level, and with each carrier's call).
function clinicalTerms(variant, floored) {
  const terms = new Map();
  const interpretations = [
    ...((variant.variantLevelData || {}).clinicalInterpretations || []),
    ...calls(variant, floored).flatMap((call) => call.clinicalInterpretations || []),
  ];
  for (const item of interpretations) {
    const term = item.effect && item.effect.id ? item.effect : { id: item.conditionId };
    if (term.id && !terms.has(term.id)) terms.set(term.id, { ...term, significance: item.clinicalRelevance || "" });
  }
  return [...terms.values()];
}

function zygosities(variant, floored) {
  const labels = new Set();
  for (const call of calls(variant, floored)) {
    if (call.zygosity && call.zygosity.label) labels.add(call.zygosity.label);
  }
  return [...labels];
}

function fact(key, ...values) {
  const shown = values.filter((v) => v !== null && v !== undefined && v !== "");
  if (!shown.length) return [];
  const dd = el("dd", { "data-fact": key });
  shown.forEach((value, i) => {
    if (i) dd.append(", ");
    dd.append(value);
  });
  return [el("dt", {}, t(`card.${key}`)), dd];
}

function facts(variant, site, floored) {
  const ids = variant.identifiers || {};
  const attrs = variant.molecularAttributes || {};
  const effects = (attrs.molecularEffects || []).map((e) => e.label || e.id);
  const position = site.pos === null ? null : `${site.chrom}:${site.pos} ${site.ref || "?"}>${site.alt || site.type}`;
  return el(
    "dl",
    { class: "facts" },
    ...fact("position", position && `${position} (${site.assembly || "?"})`),
    ...fact("genomicHgvs", ids.genomicHGVSId),
    ...fact("genes", ...(attrs.geneIds || [])),
    ...fact("effect", ...effects),
    ...fact("transcriptHgvs", ...(ids.transcriptHGVSIds || [])),
    ...fact("proteinHgvs", ...(ids.proteinHGVSIds || []), ...(attrs.aminoacidChanges || [])),
    ...fact("identifiers", ...rsNumbers(variant)),
    ...fact("clinical", ...clinicalTerms(variant, floored).map(termNode)),
    ...fact("zygosity", ...zygosities(variant, floored)),
  );
}

function linkList(variant, site) {
  const links = variantLinks(variant, site);
  if (!links.length) return null;
  const nav = el("nav", { class: "links", "aria-label": t("card.linksLabel") });
  nav.append(el("span", { class: "links-title" }, t("card.links")));
  const list = el("ul");
  for (const link of links) {
    list.append(el("li", {}, el("a", { href: link.href, rel: "noopener noreferrer", target: "_blank", "data-link": link.name }, link.name)));
  }
  nav.append(list);
  return nav;
}

function countText(count, precision) {
  if (count === undefined || count === null) return t("card.notDisclosed");
  if (precision && count === 0) return t("card.belowFloor", { base: precision });
  const text = formatNumber(count);
  return precision ? t("card.rounded", { count: text, base: precision }) : text;
}

function precisionOf(doc) {
  const summary = (doc && doc.responseSummary) || {};
  return summary.countPrecision === "rounded" ? (summary.countAdjustedTo || []).join("/") : "";
}

// Individuals carrying the variant, per dataset, as the API counts them (one call, result sets per dataset).
async function countCarriers(variantId, datasets, filters) {
  const body = queryBody({
    requestParameters: { datasetIds: datasets },
    filters,
    requestedGranularity: "count",
    includeResultsetResponses: "ALL",
  });
  const { status, document: doc } = await beaconCall(`/api/g_variants/${encodeURIComponent(variantId)}/individuals`, { body });
  if (status !== 200 || !doc || !doc.responseSummary) return null;
  const perDataset = {};
  for (const set of (doc.response && doc.response.resultSets) || []) perDataset[set.id] = set.resultsCount;
  return { total: doc.responseSummary.numTotalResults, perDataset, precision: precisionOf(doc) };
}

// Candidate terms: those on the carriers' records the API returned (when it returns records to this caller),
// the variant's stored conditions and the chosen cohort filters. Only the API's counts of them are shown.
async function candidateTerms(variantId, variant, datasets, chosen, floored) {
  const terms = new Map();
  const add = (term) => {
    if (term && term.id && /^(HP|MONDO|OMIM|ORPHA|Orphanet):/.test(term.id) && !terms.has(term.id)) terms.set(term.id, term);
  };
  const body = queryBody({ requestParameters: { datasetIds: datasets }, requestedGranularity: "record", pagination: { skip: 0, limit: 25 } });
  const { status, document: doc } = await beaconCall(`/api/g_variants/${encodeURIComponent(variantId)}/individuals`, { body });
  if (status === 200 && doc && doc.meta && doc.meta.returnedGranularity === "record") {
    for (const set of (doc.response && doc.response.resultSets) || []) {
      for (const person of set.results || []) {
        for (const feature of person.phenotypicFeatures || []) if (!feature.excluded) add(feature.featureType);
        for (const disease of person.diseases || []) add(disease.diseaseCode);
      }
    }
  }
  clinicalTerms(variant, floored).forEach(add);
  chosen.forEach(add);
  return [...terms.values()].slice(0, MAX_TERMS);
}

async function carriersSection(variantId, variant, datasets, chosen, floored) {
  const section = el("section", { class: "carriers", "aria-label": t("card.carriersTitle") });
  section.append(el("h4", {}, t("card.carriersTitle")));
  const carriers = await countCarriers(variantId, datasets, []);
  if (!carriers) {
    section.append(el("p", { class: "note", "data-carriers": "unavailable" }, t("card.carriersUnavailable")));
    return { section, carriers: null };
  }
  const total = el("p", { "data-carriers": String(carriers.total) }, t("card.carriersTotal", { count: countText(carriers.total, carriers.precision) }));
  section.append(total);
  if (!carriers.total) return { section, carriers };
  const terms = await candidateTerms(variantId, variant, datasets, chosen, floored);
  const counted = await Promise.all(
    terms.map(async (term) => ({ term, answer: await countCarriers(variantId, datasets, [{ id: term.id, scope: "individual" }]) })),
  );
  const shown = counted.filter((c) => c.answer && c.answer.total > 0).sort((a, b) => b.answer.total - a.answer.total);
  if (!shown.length) {
    section.append(el("p", { class: "note" }, t("card.noTerms")));
    return { section, carriers };
  }
  const list = el("ul", { class: "term-counts" });
  for (const { term, answer } of shown) {
    list.append(el("li", { "data-term-id": term.id, "data-count": String(answer.total) }, termNode(term), " — ", t("card.termCount", { count: countText(answer.total, answer.precision) })));
  }
  section.append(list, el("p", { class: "note" }, t("card.termsNote")));
  return { section, carriers };
}

// Per dataset: the answer about the variant and the carriers the API counted there.
function datasetRows(entries, carriers) {
  const table = el("table", { class: "card-datasets" });
  table.createCaption().textContent = t("card.perDataset");
  const head = table.createTHead().insertRow();
  for (const key of ["datasets.dataset", "datasets.answer", "card.carriers", "pop.het", "pop.hom", "pop.hemi"]) {
    head.append(el("th", { scope: "col" }, t(key)));
  }
  const body = table.createTBody();
  for (const { dataset, variant } of entries) {
    const tr = body.insertRow();
    tr.dataset.dataset = dataset;
    tr.append(el("th", { scope: "row" }, dataset));
    tr.insertCell().textContent = t("status.found");
    const n = carriers ? carriers.perDataset[dataset] : undefined;
    tr.insertCell().textContent = countText(n, carriers && carriers.precision);
    // Zygosity counts only as stored for the dataset as a whole (a single population); else see the table below.
    const frequencies = (variant.frequencyInPopulations || []).flatMap((s) => s.frequencies || []);
    const whole = frequencies.length === 1 ? frequencies[0] : null;
    for (const key of ["alleleCountHeterozygous", "alleleCountHomozygous", "alleleCountHemizygous"]) {
      const value = whole ? whole[key] : undefined;
      tr.insertCell().textContent = typeof value === "number" ? formatNumber(value) : frequencies.length > 1 ? t("card.byPopulation") : "–";
    }
  }
  return table;
}

function title(variant, site) {
  const attrs = variant.molecularAttributes || {};
  const ids = variant.identifiers || {};
  const genes = (attrs.geneIds || []).join(", ");
  const name = (ids.transcriptHGVSIds || [])[0] || ids.genomicHGVSId || `${site.chrom}:${site.pos} ${site.ref}>${site.alt}`;
  return genes ? `${genes} · ${name}` : name;
}

// entries: [{dataset, assembly, variant}] for one variant, one per dataset that holds it; `floored` when the
// API reported rounded counts for the answer.
export async function variantCard(entries, chosen, floored) {
  const { variant, assembly } = entries[0];
  const site = siteOf(variant, assembly);
  const key = variantKey(variant);
  const headingId = `card-${key.replace(/[^A-Za-z0-9_-]/g, "_")}`;
  const card = el("article", { class: "card", "data-variant": key, "aria-labelledby": headingId });
  const heading = el("h3", { id: headingId, tabindex: "-1" }, title(variant, site));
  card.append(heading, facts(variant, site, floored), linkList(variant, site));
  const datasets = entries.map((e) => e.dataset);
  const id = variant.variantInternalId || key;
  const { section, carriers } = await carriersSection(id, variant, datasets, chosen, floored);
  card.append(datasetRows(entries, carriers), section);
  return card;
}
