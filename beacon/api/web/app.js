// Clinician page: asks /api/g_variants at count granularity and shows the answer per dataset.
"use strict";

async function beaconInfo() {
  const response = await fetch("/api/info");
  const info = (await response.json()).response;
  document.getElementById("beacon-name").textContent = info.name;
  document.getElementById("beacon-description").textContent = info.description || "";
  document.title = info.name;
}

function show(document_, question) {
  const summary = document.getElementById("answer-summary");
  const table = document.getElementById("answer-table");
  const body = table.querySelector("tbody");
  body.replaceChildren();
  if (document_.error) {
    summary.textContent = `The beacon could not answer: ${document_.error.errorMessage}`;
    table.hidden = true;
    return;
  }
  const total = document_.responseSummary.numTotalResults;
  summary.textContent = document_.responseSummary.exists
    ? `${question}: found (${total ?? "present"}).`
    : `${question}: not found in any dataset you can see.`;
  const sets = (document_.response && document_.response.resultSets) || [];
  for (const set of sets) {
    const row = body.insertRow();
    row.insertCell().textContent = set.id;
    row.insertCell().textContent = set.exists ? "yes" : "no";
    row.insertCell().textContent = String(set.resultsCount);
  }
  table.hidden = sets.length === 0;
}

async function ask(parameters, question) {
  const query = new URLSearchParams({ ...parameters, requestedGranularity: "count", includeResultsetResponses: "ALL" });
  const response = await fetch(`/api/g_variants?${query}`);
  show(await response.json(), question);
}

document.getElementById("variant-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const form = new FormData(event.target);
  const parameters = {
    assemblyId: form.get("assemblyId"),
    referenceName: form.get("referenceName").trim(),
    // The page takes VCF's 1-based position; Beacon start is 0-based.
    start: String(Number(form.get("position")) - 1),
    alternateBases: form.get("alternateBases").trim().toUpperCase(),
  };
  const ref = form.get("referenceBases").trim().toUpperCase();
  if (ref) parameters.referenceBases = ref;
  ask(parameters, `${parameters.referenceName}:${form.get("position")} ${ref || "?"}>${parameters.alternateBases}`);
});

document.getElementById("gene-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const gene = new FormData(event.target).get("geneId").trim();
  ask({ geneId: gene }, `Variants in ${gene}`);
});

beaconInfo();
