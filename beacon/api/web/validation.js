// Per-field checks before a question is asked: each message sits next to its field (aria-invalid and
// aria-describedby), so an empty or malformed form never reaches the beacon and never shows a bare ":".
"use strict";

import { t } from "./i18n.js";

const CHROMOSOME = /^(chr)?([1-9]|1[0-9]|2[0-2]|X|Y|M|MT)$/i;
const BASES = /^[ACGTN]+$/i;
const HGVS = /^[A-Za-z0-9_.]+(\([A-Za-z0-9_.-]+\))?:[gcnmrp]\.\S+$/;
const GENE = /^[A-Za-z0-9][A-Za-z0-9-]*$/;
const RS = /^(dbsnp:)?(rs)?[0-9]+$/i;

// [field id, required, pattern, message key] per lookup mode.
const RULES = {
  position: [
    ["referenceName", true, CHROMOSOME, "error.chromosome"],
    ["position", true, /^[1-9][0-9]*$/, "error.position"],
    ["referenceBases", false, BASES, "error.bases"],
    ["alternateBases", true, BASES, "error.bases"],
  ],
  hgvs: [["hgvs", true, HGVS, "error.hgvs"]],
  gene: [["geneId", true, GENE, "error.gene"]],
  rs: [["rsId", true, RS, "error.rs"]],
};

function mark(input, message) {
  const error = document.getElementById(`${input.id}-error`);
  error.textContent = message;
  if (message) input.setAttribute("aria-invalid", "true");
  else input.removeAttribute("aria-invalid");
}

// The inputs of `mode` that fail, in form order, each marked with its message; every other field cleared.
export function validate(form, mode) {
  for (const input of form.querySelectorAll("[aria-invalid]")) mark(input, "");
  const invalid = [];
  for (const [id, required, pattern, key] of RULES[mode] || []) {
    const input = document.getElementById(id);
    const value = input.value.trim();
    let message = "";
    if (!value) message = required ? t("error.required") : "";
    else if (!pattern.test(value)) message = t(key);
    mark(input, message);
    if (message) invalid.push(input);
  }
  return invalid;
}
