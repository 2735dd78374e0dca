// Cohort filters: a combobox over /api/filtering_terms (labelled, keyboard-operable), and the chosen terms.
"use strict";

import { beaconCall } from "./api.js";
import { t } from "./i18n.js";

const MAX_OPTIONS = 12;
const $ = (id) => document.getElementById(id);

export const filters = { terms: [], chosen: [], matches: [], active: -1 };

export async function loadTerms() {
  const { document: doc } = await beaconCall("/api/filtering_terms");
  filters.terms = ((doc && doc.response && doc.response.filteringTerms) || []).filter((term) => term.id);
}

export function termText(term) {
  return term.label ? `${term.label} (${term.id})` : term.id;
}

export function labelOf(id) {
  const term = filters.terms.find((candidate) => candidate.id === id);
  return term && term.label ? term.label : "";
}

// Terms scoped to other entry types (individuals, biosamples) select the variants of matching people.
export function chosenFilters() {
  return filters.chosen.map((term) => {
    const scope = (term.scopes || [])[0];
    return scope && !scope.startsWith("genomicVari") ? { id: term.id, scope } : { id: term.id };
  });
}

function closeOptions() {
  filters.matches = [];
  filters.active = -1;
  $("filter-options").hidden = true;
  $("filter-options").replaceChildren();
  $("filter-input").setAttribute("aria-expanded", "false");
  $("filter-input").removeAttribute("aria-activedescendant");
}

function renderOptions() {
  const list = $("filter-options");
  list.replaceChildren();
  filters.matches.forEach((term, i) => {
    const li = document.createElement("li");
    li.id = `filter-option-${i}`;
    li.setAttribute("role", "option");
    li.setAttribute("aria-selected", String(i === filters.active));
    li.dataset.termId = term.id;
    li.textContent = termText(term);
    li.addEventListener("mousedown", (event) => event.preventDefault()); // keep focus in the input
    li.addEventListener("click", () => choose(term));
    list.append(li);
  });
  const open = filters.matches.length > 0;
  list.hidden = !open;
  $("filter-input").setAttribute("aria-expanded", String(open));
  if (filters.active >= 0) $("filter-input").setAttribute("aria-activedescendant", `filter-option-${filters.active}`);
  else $("filter-input").removeAttribute("aria-activedescendant");
}

function search(text) {
  const q = text.trim().toLowerCase();
  if (!q) return [];
  const chosen = new Set(filters.chosen.map((term) => term.id));
  const hits = filters.terms.filter(
    (term) => !chosen.has(term.id) && (term.id.toLowerCase().includes(q) || (term.label || "").toLowerCase().includes(q)),
  );
  const rank = (term) => ((term.label || "").toLowerCase().startsWith(q) || term.id.toLowerCase().startsWith(q) ? 0 : 1);
  hits.sort((a, b) => rank(a) - rank(b) || (a.label || a.id).length - (b.label || b.id).length);
  return hits.slice(0, MAX_OPTIONS);
}

function choose(term) {
  if (!filters.chosen.some((chosen) => chosen.id === term.id)) filters.chosen.push(term);
  $("filter-input").value = "";
  closeOptions();
  renderChosen();
  $("filter-input").focus();
}

export function renderChosen() {
  const list = $("chosen-filters");
  list.replaceChildren();
  for (const term of filters.chosen) {
    const li = document.createElement("li");
    li.dataset.termId = term.id;
    li.append(termText(term), " ");
    const remove = document.createElement("button");
    remove.type = "button";
    remove.textContent = "×";
    remove.setAttribute("aria-label", t("filters.remove", { term: termText(term) }));
    remove.addEventListener("click", () => {
      filters.chosen = filters.chosen.filter((chosen) => chosen.id !== term.id);
      renderChosen();
      $("filter-input").focus();
    });
    li.append(remove);
    list.append(li);
  }
}

export function wireFilters() {
  $("filter-input").addEventListener("input", (event) => {
    filters.matches = search(event.target.value);
    filters.active = -1;
    renderOptions();
  });
  $("filter-input").addEventListener("keydown", (event) => {
    const open = filters.matches.length > 0;
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      if (!open) filters.matches = search(event.target.value);
      if (!filters.matches.length) return;
      event.preventDefault();
      const step = event.key === "ArrowDown" ? 1 : -1;
      filters.active = (filters.active + step + filters.matches.length) % filters.matches.length;
      renderOptions();
    } else if (event.key === "Enter" && open) {
      event.preventDefault(); // choosing a term must not submit the question
      choose(filters.matches[Math.max(filters.active, 0)]);
    } else if (event.key === "Escape" && open) {
      event.preventDefault();
      closeOptions();
    }
  });
  $("filter-input").addEventListener("blur", closeOptions);
}
