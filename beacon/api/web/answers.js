// The answer to one question: member beacons as they answer, each dataset's answer (found / not found /
// not allowed / not searched), the summary line, and the variants as cards or as a paged list.
"use strict";

import { variantCard, variantKey } from "./card.js";
import { formatNumber, t } from "./i18n.js";

const $ = (id) => document.getElementById(id);

export function memberRow(line) {
  const body = $("members-table").querySelector("tbody");
  const tr = body.insertRow();
  tr.dataset.member = line.memberId;
  const th = document.createElement("th");
  th.scope = "row";
  th.textContent = line.memberId;
  tr.append(th);
  tr.insertCell().textContent = line.message ? `${line.outcome}: ${line.message}` : line.outcome;
  tr.insertCell().textContent = formatNumber(line.latencyMs);
  const summary = (line.response && line.response.responseSummary) || null;
  tr.insertCell().textContent = summary ? t(summary.exists ? "yes" : "no") : "–";
  tr.insertCell().textContent = summary && summary.numTotalResults !== undefined ? String(summary.numTotalResults) : "–";
  $("members-table").hidden = false;
  $("answer-summary").textContent = t("members.answered", { count: body.rows.length });
}

// "dataset X is on GRCh37, the query on GRCh38: not searched (...)", as the API words info.warnings.
function notSearched(doc) {
  const out = new Map();
  for (const warning of (doc.info && doc.info.warnings) || []) {
    const match = /^dataset (\S+) is on (\S+?)[,:]/.exec(warning);
    if (match && warning.includes("not searched")) out.set(match[1], match[2]);
  }
  return out;
}

// Each dataset's answer: found, not found, not allowed for this caller's access, or not searched.
export function datasetStatuses(doc, datasets) {
  const rows = [];
  const seen = new Set();
  for (const set of (doc.response && doc.response.resultSets) || []) {
    seen.add(set.id);
    const floor = set.countPrecision === "rounded" ? (set.countAdjustedTo || []).join("/") : "";
    if (!set.exists && floor) rows.push({ id: set.id, status: "belowFloor", floor, count: set.resultsCount });
    else rows.push({ id: set.id, status: set.exists ? "found" : "notFound", count: set.resultsCount });
  }
  const skipped = notSearched(doc);
  for (const [id, assembly] of skipped) {
    if (!seen.has(id)) rows.push({ id, status: "notSearched", assembly });
    seen.add(id);
  }
  for (const [id, d] of datasets) {
    if (seen.has(id) || d.member) continue;
    const access = d.info && d.info.beaconAccess;
    if (access && !access.queryable) rows.push({ id, status: "notAllowed" });
    // Below the dataset's count floor a group reads as none: say so rather than "not found".
    else if (access && access.countFloor > 1) rows.push({ id, status: "belowFloor", floor: access.countFloor });
    else rows.push({ id, status: "notFound" });
  }
  return rows;
}

export function renderStatuses(rows) {
  const table = $("answer-table");
  const body = table.querySelector("tbody");
  body.replaceChildren();
  for (const row of rows) {
    const tr = body.insertRow();
    tr.dataset.dataset = row.id;
    tr.dataset.status = row.status;
    const th = document.createElement("th");
    th.scope = "row";
    th.textContent = row.id;
    tr.append(th);
    tr.insertCell().textContent = t(`status.${row.status}`, { assembly: row.assembly, floor: row.floor });
    tr.insertCell().textContent = row.count === undefined ? "–" : String(row.count);
  }
  table.hidden = rows.length === 0;
}

export function summarise(doc, asked, statuses) {
  const summary = $("answer-summary");
  const total = doc.responseSummary.numTotalResults;
  const found = statuses.filter((s) => s.status === "found").length;
  const extra = [];
  const denied = statuses.filter((s) => s.status === "notAllowed").length;
  const skipped = statuses.filter((s) => s.status === "notSearched").length;
  if (denied) extra.push(t("answer.notAllowedNote", { count: denied }));
  if (skipped) extra.push(t("answer.notSearchedNote", { count: skipped }));
  const key = doc.responseSummary.exists ? "answer.found" : "answer.notFound";
  summary.textContent = [t(key, { question: asked.text, count: total ?? 0, datasets: found }), ...extra].join(" ");
  summary.dataset.exists = String(doc.responseSummary.exists);
  summary.dataset.state = doc.responseSummary.exists ? "found" : "not-found";
  if (total !== undefined) summary.dataset.total = String(total);
}

// [{dataset, assembly, variant}] per distinct variant, in the order the API returned them.
export function variantsOf(doc, datasets, askedAssembly) {
  const byKey = new Map();
  for (const set of (doc.response && doc.response.resultSets) || []) {
    const d = datasets.get(set.id);
    const assembly = (d && d.info && d.info.assembly) || askedAssembly;
    for (const variant of set.results || []) {
      const key = variantKey(variant);
      if (!byKey.has(key)) byKey.set(key, []);
      byKey.get(key).push({ dataset: set.id, assembly, variant });
    }
  }
  return [...byKey.values()];
}

export async function openCard(entries, focus, floored, chosen) {
  const cards = $("cards");
  const card = await variantCard(entries, chosen, floored);
  cards.append(card);
  if (focus) card.querySelector("h3").focus();
}

// `goTo(pageIndex)` asks the same question for another page.
export function variantList(groups, doc, { pageIndex, pageLimit, floored, chosen, goTo }) {
  const box = $("variant-list");
  box.replaceChildren();
  const table = document.createElement("table");
  table.id = "variants-table";
  table.createCaption().textContent = t("list.caption");
  const head = table.createTHead().insertRow();
  for (const key of ["list.variant", "card.genes", "card.transcriptHgvs", "card.proteinHgvs", "datasets.dataset"]) {
    const th = document.createElement("th");
    th.scope = "col";
    th.textContent = t(key);
    head.append(th);
  }
  const body = table.createTBody();
  for (const entries of groups) {
    const { variant } = entries[0];
    const ids = variant.identifiers || {};
    const tr = body.insertRow();
    tr.dataset.variant = variantKey(variant);
    const th = document.createElement("th");
    th.scope = "row";
    const open = document.createElement("button");
    open.type = "button";
    open.className = "link";
    open.textContent = ids.genomicHGVSId || variant.variantInternalId;
    open.setAttribute("aria-label", t("list.open", { variant: open.textContent }));
    open.addEventListener("click", async () => {
      $("cards").replaceChildren();
      await openCard(entries, true, floored, chosen);
    });
    th.append(open);
    tr.append(th);
    tr.insertCell().textContent = ((variant.molecularAttributes || {}).geneIds || []).join(", ");
    tr.insertCell().textContent = (ids.transcriptHGVSIds || []).join(", ");
    tr.insertCell().textContent = (ids.proteinHGVSIds || []).join(", ");
    tr.insertCell().textContent = entries.map((e) => e.dataset).join(", ");
  }
  box.append(table);
  const largest = Math.max(0, ...((doc.response && doc.response.resultSets) || []).map((s) => s.resultsCount || 0));
  const pages = Math.max(1, Math.ceil(largest / pageLimit));
  const nav = document.createElement("nav");
  nav.className = "pager";
  nav.setAttribute("aria-label", t("list.pages"));
  const status = document.createElement("span");
  status.id = "page-status";
  status.textContent = t("list.page", { page: pageIndex + 1, pages });
  for (const [label, target, enabled] of [["list.previous", pageIndex - 1, pageIndex > 0], ["list.next", pageIndex + 1, pageIndex + 1 < pages]]) {
    const button = document.createElement("button");
    button.type = "button";
    button.id = label === "list.next" ? "page-next" : "page-previous";
    button.textContent = t(label);
    button.disabled = !enabled;
    button.addEventListener("click", () => goTo(target));
    nav.append(button);
  }
  nav.insertBefore(status, nav.lastChild);
  box.append(nav);
}
