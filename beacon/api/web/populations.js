// Per dataset: the stored allele counts and frequencies by population as a sortable table, and the same
// numbers drawn as labelled bars. Only what the API returned in frequencyInPopulations is shown.
"use strict";

import { formatFrequency, formatNumber, t } from "./i18n.js";

const SVG = "http://www.w3.org/2000/svg";
const MAX_BARS = 30;
const COLUMNS = [
  { key: "variant", label: "pop.variant", numeric: false },
  { key: "population", label: "pop.population", numeric: false },
  { key: "ac", label: "pop.ac", numeric: true },
  { key: "an", label: "pop.an", numeric: true },
  { key: "hom", label: "pop.hom", numeric: true },
  { key: "het", label: "pop.het", numeric: true },
  { key: "hemi", label: "pop.hemi", numeric: true },
  { key: "af", label: "pop.af", numeric: true },
];

export function variantName(variant) {
  return (variant.identifiers && variant.identifiers.genomicHGVSId) || variant.variantInternalId || "variant";
}

function numberOr(value) {
  return typeof value === "number" ? value : null;
}

export function populationRows(results) {
  const rows = [];
  for (const variant of results) {
    for (const source of variant.frequencyInPopulations || []) {
      for (const f of source.frequencies || []) {
        if (typeof f.alleleFrequency !== "number") continue;
        rows.push({
          variant: variantName(variant),
          population: f.population,
          source: source.source || "",
          ac: numberOr(f.alleleCount),
          an: numberOr(f.alleleNumber),
          hom: numberOr(f.alleleCountHomozygous),
          het: numberOr(f.alleleCountHeterozygous),
          hemi: numberOr(f.alleleCountHemizygous),
          af: f.alleleFrequency,
        });
      }
    }
  }
  return rows;
}

function cellText(column, value) {
  if (value === null || value === undefined) return "–";
  if (column.key === "af") return formatFrequency(value);
  return column.numeric ? formatNumber(value) : String(value);
}

function sortRows(rows, key, ascending) {
  const sign = ascending ? 1 : -1;
  return [...rows].sort((a, b) => {
    const x = a[key];
    const y = b[key];
    if (x === y) return 0;
    if (x === null) return 1;
    if (y === null) return -1;
    return (typeof x === "number" ? x - y : String(x).localeCompare(String(y))) * sign;
  });
}

function fillBody(tbody, rows, columns) {
  tbody.replaceChildren();
  for (const row of rows) {
    const tr = tbody.insertRow();
    tr.dataset.population = row.population;
    tr.dataset.variant = row.variant;
    columns.forEach((column) => {
      const header = column.key === "population";
      const cell = document.createElement(header ? "th" : "td");
      if (header) cell.scope = "row";
      cell.textContent = cellText(column, row[column.key]);
      if (column.numeric) cell.className = "num";
      cell.dataset.key = column.key;
      tr.append(cell);
    });
  }
}

// A table whose column headers are buttons: a click sorts by that column, a second click reverses.
function populationTable(setId, rows) {
  // The variant column only when the rows are of several variants.
  const several = new Set(rows.map((r) => r.variant)).size > 1;
  const columns = several ? COLUMNS : COLUMNS.filter((column) => column.key !== "variant");
  const table = document.createElement("table");
  table.className = "population-table";
  table.dataset.dataset = setId;
  const caption = table.createCaption();
  caption.textContent = t("pop.caption", { dataset: setId });
  const head = table.createTHead().insertRow();
  const tbody = table.createTBody();
  let sorted = { key: "af", ascending: false };
  const render = () => {
    for (const th of head.cells) {
      th.setAttribute("aria-sort", th.dataset.key === sorted.key ? (sorted.ascending ? "ascending" : "descending") : "none");
    }
    fillBody(tbody, sortRows(rows, sorted.key, sorted.ascending), columns);
  };
  for (const column of columns) {
    const th = document.createElement("th");
    th.scope = "col";
    th.dataset.key = column.key;
    const button = document.createElement("button");
    button.type = "button";
    button.className = "sort";
    button.textContent = t(column.label);
    button.addEventListener("click", () => {
      sorted = { key: column.key, ascending: sorted.key === column.key ? !sorted.ascending : !column.numeric };
      render();
    });
    th.append(button);
    head.append(th);
  }
  render();
  return table;
}

function svgElement(name, attributes, text) {
  const element = document.createElementNS(SVG, name);
  for (const [key, value] of Object.entries(attributes)) element.setAttribute(key, String(value));
  if (text !== undefined) element.textContent = text;
  return element;
}

function barLabel(row, several) {
  return several ? `${row.variant} · ${row.population}` : row.population;
}

function countsText(row) {
  return row.ac !== null && row.an !== null ? ` (${formatNumber(row.ac)}/${formatNumber(row.an)})` : "";
}

// A horizontal bar per population (and variant), scaled to the largest frequency shown, labelled with the
// same numbers as the table.
function frequencyChart(setId, rows, note) {
  const shown = rows.slice(0, MAX_BARS);
  const several = new Set(shown.map((r) => r.variant)).size > 1;
  const labels = shown.map((r) => barLabel(r, several));
  const values = shown.map((r) => `${formatFrequency(r.af)}${countsText(r)}`);
  const row = 22;
  // About 7 px per character at the chart's 12 px font, so labels are not clipped.
  const labelWidth = Math.min(480, Math.max(120, 10 + 7 * Math.max(...labels.map((l) => l.length))));
  const barWidth = 230;
  const width = labelWidth + barWidth + 20 + 7 * Math.max(...values.map((v) => v.length));
  const height = shown.length * row + 8;
  const top = Math.max(...shown.map((r) => r.af)) || 1;
  const figure = document.createElement("figure");
  figure.className = "chart";
  figure.dataset.dataset = setId;
  const caption = document.createElement("figcaption");
  caption.id = `chart-${setId}`;
  const more = rows.length > shown.length ? t("chart.more", { shown: shown.length, total: rows.length }) : "";
  caption.textContent = `${t("chart.caption", { dataset: setId })}${note}${more}`;
  const svg = svgElement("svg", { viewBox: `0 0 ${width} ${height}`, width, height, role: "img", "aria-labelledby": caption.id });
  svg.append(svgElement("title", {}, shown.map((r, i) => `${labels[i]}: ${values[i]}`).join("; ")));
  shown.forEach((r, i) => {
    const y = 4 + i * row;
    const length = Math.max(1, (r.af / top) * barWidth);
    const group = svgElement("g", { class: "bar" });
    group.dataset.value = String(r.af);
    group.append(svgElement("text", { x: labelWidth - 8, y: y + 14, "text-anchor": "end" }, labels[i]));
    group.append(svgElement("rect", { x: labelWidth, y: y + 2, width: length, height: row - 6 }));
    group.append(svgElement("text", { x: labelWidth + length + 6, y: y + 14 }, values[i]));
    svg.append(group);
  });
  figure.append(caption, svg);
  return figure;
}

// One block per dataset with stored frequencies: the table, the chart and what the cohort filter did.
export function drawPopulations(sets, chosenFilterNames) {
  const tables = document.getElementById("populations");
  const charts = document.getElementById("charts");
  tables.replaceChildren();
  charts.replaceChildren();
  for (const set of sets) {
    const results = set.results || [];
    const rows = populationRows(results);
    if (!rows.length) continue;
    const note = set.resultsCount > results.length ? t("chart.firstOf", { shown: results.length, total: set.resultsCount }) : "";
    const block = document.createElement("section");
    block.className = "population-block";
    block.setAttribute("aria-label", t("pop.caption", { dataset: set.id }));
    block.append(populationTable(set.id, rows));
    const effect = document.createElement("p");
    effect.className = "note cohort-effect";
    effect.textContent = chosenFilterNames.length
      ? t("pop.filtered", { filters: chosenFilterNames.join(", ") })
      : t("pop.unfiltered");
    block.append(effect);
    tables.append(block);
    charts.append(frequencyChart(set.id, rows, note));
  }
}
