// Links out, built only from what the beacon stored and returned: plain <a href>, never a call from the page.
"use strict";

const GNOMAD_DATASET = { GRCh38: "gnomad_r4", GRCh37: "gnomad_r2_1" };
const UCSC_DB = { GRCh38: "hg38", GRCh37: "hg19" };
const ENSEMBL_HOST = { GRCh38: "https://www.ensembl.org", GRCh37: "https://grch37.ensembl.org" };

// Ontology pages by CURIE prefix; a prefix not listed gets no link.
const ONTOLOGY_PAGES = {
  HP: (id) => `https://hpo.jax.org/browse/term/${id}`,
  MONDO: (id) => `https://monarchinitiative.org/${id}`,
  OMIM: (id) => `https://omim.org/entry/${id.split(":")[1]}`,
  ORPHA: (id) => `https://www.orpha.net/en/disease/detail/${id.split(":")[1]}`,
  Orphanet: (id) => `https://www.orpha.net/en/disease/detail/${id.split(":")[1]}`,
};

export function ontologyLink(id) {
  const make = ONTOLOGY_PAGES[String(id).split(":")[0]];
  return make ? make(id) : null;
}

// rs numbers the record names (identifiers.variantAlternativeIds, "dbSNP:rs…" or a bare "rs…").
export function rsNumbers(variant) {
  const ids = ((variant.identifiers || {}).variantAlternativeIds || []).map((ref) => String(ref.id || ""));
  return ids.map((id) => id.replace(/^dbSNP:/i, "")).filter((id) => /^rs\d+$/.test(id));
}

function clinvarIds(variant) {
  const ids = ((variant.identifiers || {}).variantAlternativeIds || []).map((ref) => String(ref.id || ""));
  return ids.filter((id) => /^clinvar:\d+$/i.test(id)).map((id) => id.split(":")[1]);
}

// [{name, href}] for one variant at its position on `assembly` (1-based `pos`, as the card shows it).
export function variantLinks(variant, site) {
  const links = [];
  const { assembly, chrom, pos, end, ref, alt } = site;
  if (assembly in GNOMAD_DATASET && ref && alt && /^[ACGT]+$/.test(ref + alt)) {
    const key = `${chrom}-${pos}-${ref}-${alt}`;
    links.push({ name: "gnomAD", href: `https://gnomad.broadinstitute.org/variant/${key}?dataset=${GNOMAD_DATASET[assembly]}` });
  }
  const clinvar = clinvarIds(variant);
  const transcript = ((variant.identifiers || {}).transcriptHGVSIds || [])[0];
  const rs = rsNumbers(variant);
  if (clinvar.length) {
    links.push({ name: "ClinVar", href: `https://www.ncbi.nlm.nih.gov/clinvar/variation/${clinvar[0]}/` });
  } else if (transcript || rs.length) {
    links.push({ name: "ClinVar", href: `https://www.ncbi.nlm.nih.gov/clinvar/?term=${encodeURIComponent(transcript || rs[0])}` });
  }
  for (const id of rs) links.push({ name: `dbSNP ${id}`, href: `https://www.ncbi.nlm.nih.gov/snp/${id}` });
  if (assembly in ENSEMBL_HOST && chrom && pos) {
    links.push({ name: "Ensembl", href: `${ENSEMBL_HOST[assembly]}/Homo_sapiens/Location/View?r=${chrom}:${pos}-${end}` });
    links.push({ name: "UCSC", href: `https://genome.ucsc.edu/cgi-bin/hgTracks?db=${UCSC_DB[assembly]}&position=chr${chrom}:${pos}-${end}` });
  }
  return links;
}
