"""The synthetic demo cohort: a deterministic generator of Beacon-Friendly-Format files for every default entry type.

Everything is drawn from one `random.Random(seed)`, JSON is written with sorted keys and gzip with mtime 0 and no
file name, so the same arguments always give byte-identical files (and re-loading them is a no-op). The ontology
terms and gene coordinates are real (GRCh38); the people, samples and genotypes are not.
"""

from __future__ import annotations

import datetime as dt
import gzip
import json
import random
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Final, Literal

Record = dict[str, Any]
Term = tuple[str, str]
VariantKind = Literal["SNP", "insertion", "deletion", "DEL", "DUP"]

DATASET_ID: Final = "demo-cohort"
COHORT_ID: Final = "demo-cohort-all"
VARIANT_COUNT: Final = 150
MIN_AGE: Final = 18
MAX_AGE: Final = 90
# 126 SNPs, 20 small indels and 4 copy-number variants, shuffled over the loci.
VARIANT_MIX: Final[tuple[tuple[VariantKind, int], ...]] = (
    ("SNP", 126), ("insertion", 10), ("deletion", 10), ("DEL", 2), ("DUP", 2)
)  # fmt: skip

SEXES: Final[tuple[Term, ...]] = (("NCIT:C16576", "female"), ("NCIT:C20197", "male"))
ETHNICITIES: Final[tuple[Term, ...]] = (
    ("NCIT:C42331", "African"), ("NCIT:C41260", "Asian"), ("NCIT:C43851", "European"),
    ("NCIT:C126531", "Latin American"),
)  # fmt: skip
ORIGINS: Final[tuple[Term, ...]] = (
    ("GAZ:00002641", "England"), ("GAZ:00002639", "Scotland"), ("GAZ:00002640", "Wales"),
    ("GAZ:00002638", "Northern Ireland"), ("GAZ:00004018", "Republic of Ireland"),
)  # fmt: skip
# (id, label, earliest onset, latest onset) in years, so that onsets are clinically plausible.
DISEASES: Final[tuple[tuple[str, str, int, int], ...]] = (
    ("MONDO:0005015", "diabetes mellitus", 10, 70),
    ("MONDO:0005148", "type 2 diabetes mellitus", 30, 75),
    ("MONDO:0004975", "Alzheimer disease", 60, 90),
    ("MONDO:0009061", "cystic fibrosis", 1, 3),
    ("MONDO:0005044", "hypertensive disorder", 30, 80),
    ("MONDO:0007254", "breast cancer", 35, 80),
    ("MONDO:0005027", "epilepsy", 1, 40),
    ("MONDO:0004979", "asthma", 2, 40),
    ("MONDO:0005301", "multiple sclerosis", 20, 50),
    ("MONDO:0011122", "obesity disorder", 10, 60),
)
# Ancestors and their descendants both occur (Seizure > Bilateral tonic-clonic seizure, Abnormal heart morphology >
# Atrial septal defect, Neoplasm > Neoplasm of the breast, ...) so descendant-term filtering has something to find.
PHENOTYPES: Final[tuple[tuple[str, str, int, int], ...]] = (
    ("HP:0000118", "Phenotypic abnormality", 1, 80),
    ("HP:0000707", "Abnormality of the nervous system", 1, 60),
    ("HP:0001250", "Seizure", 1, 40),
    ("HP:0002069", "Bilateral tonic-clonic seizure", 1, 40),
    ("HP:0007359", "Focal-onset seizure", 1, 40),
    ("HP:0001263", "Global developmental delay", 1, 3),
    ("HP:0001249", "Intellectual disability", 2, 10),
    ("HP:0001626", "Abnormality of the cardiovascular system", 1, 70),
    ("HP:0001627", "Abnormal heart morphology", 1, 10),
    ("HP:0001631", "Atrial septal defect", 1, 5),
    ("HP:0000822", "Hypertension", 30, 80),
    ("HP:0001513", "Obesity", 10, 60),
    ("HP:0002664", "Neoplasm", 30, 85),
    ("HP:0100013", "Neoplasm of the breast", 35, 80),
    ("HP:0002099", "Asthma", 2, 40),
    ("HP:0000365", "Hearing impairment", 40, 85),
    ("HP:0000505", "Visual impairment", 40, 85),
    ("HP:0002315", "Headache", 10, 60),
    ("HP:0012378", "Fatigue", 18, 80),
    ("HP:0004322", "Short stature", 2, 15),
)
OBESITY: Final = "HP:0001513"
CHROMOSOMES: Final = ("1", "2", "7", "13", "17", "22", "X")
GRCH38_REFSEQ: Final[Mapping[str, str]] = {
    "1": "NC_000001.11", "2": "NC_000002.12", "7": "NC_000007.14", "13": "NC_000013.11",
    "17": "NC_000017.11", "22": "NC_000022.11", "X": "NC_000023.11",
}  # fmt: skip
# (chromosome, gene, 0-based start, end) of each gene on GRCh38; every demo variant starts inside one of them.
LOCI: Final = (
    ("1", "MTHFR", 11_785_729, 11_806_455),
    ("2", "MSH2", 47_403_066, 47_634_501),
    ("7", "CFTR", 117_480_024, 117_668_665),
    ("13", "BRCA2", 32_315_507, 32_400_268),
    ("17", "BRCA1", 43_044_294, 43_125_483),
    ("22", "COMT", 19_941_739, 19_969_975),
    ("X", "DMD", 31_097_676, 33_339_441),
)
SNP_EFFECTS: Final[tuple[Term, ...]] = (
    ("SO:0001583", "missense_variant"), ("SO:0001819", "synonymous_variant"),
    ("SO:0001627", "intron_variant"), ("SO:0001587", "stop_gained"),
)  # fmt: skip
SNP_EFFECT_WEIGHTS: Final = (35, 25, 30, 10)
FRAMESHIFT: Final[Term] = ("SO:0001589", "frameshift_variant")
INFRAME: Final[Mapping[str, Term]] = {"insertion": ("SO:0001821", "inframe_insertion"),
                                   "deletion": ("SO:0001822", "inframe_deletion")}  # fmt: skip
CNV_EFFECTS: Final[Mapping[str, Term]] = {"DEL": ("SO:0001906", "feature_truncation"),
                                       "DUP": ("SO:0001907", "feature_elongation")}  # fmt: skip
HETEROZYGOUS: Final[Term] = ("GENO:0000458", "heterozygous")
HOMOZYGOUS: Final[Term] = ("GENO:0000136", "homozygous")
AMINO_ACIDS: Final = "ACDEFGHIKLMNPQRSTVWY"
BASES: Final = "ACGT"
FIRST_COLLECTION: Final = dt.date(2024, 1, 8)
RELEASED: Final = "2026-11-23T00:00:00Z"


def _term(term: Term) -> dict[str, str]:
    return {"id": term[0], "label": term[1]}


def _years(n: int) -> dict[str, str]:
    return {"iso8601duration": f"P{n}Y"}


def _phenotypic_features(rng: random.Random, age: int) -> list[Record]:
    eligible = [p for p in PHENOTYPES if p[2] <= age]
    features: list[Record] = []
    for term_id, label, earliest, latest in rng.sample(eligible, rng.randint(1, 4)):
        feature: Record = {"featureType": {"id": term_id, "label": label}}
        # An excluded feature was looked for and not found, so it has no onset.
        if rng.random() < 0.08:
            feature["excluded"] = True
        else:
            feature["onset"] = _years(rng.randint(earliest, min(latest, age)))
        features.append(feature)
    return features


def _diseases(rng: random.Random, age: int) -> list[Record]:
    eligible = [d for d in DISEASES if d[2] <= age]
    chosen = rng.sample(eligible, rng.choices((0, 1, 2), weights=(40, 45, 15))[0])
    return [
        {"diseaseCode": {"id": code, "label": label}, "ageOfOnset": _years(rng.randint(earliest, min(latest, age)))}
        for code, label, earliest, latest in chosen
    ]


def _bmi(rng: random.Random, obese: bool) -> float:
    value = rng.uniform(30.0, 42.0) if obese else min(29.9, max(16.5, rng.gauss(24.5, 3.0)))
    return round(value, 1)


def _subject(rng: random.Random, n: int) -> tuple[Record, Record, Record, Record]:
    """One individual with its blood biosample, sequencing run and germline analysis."""
    individual_id, sample_id = f"DEMO-{n:04d}", f"DEMO-BS-{n:04d}"
    run_id, analysis_id = f"DEMO-RUN-{n:04d}", f"DEMO-AN-{n:04d}"
    age = rng.randint(MIN_AGE, MAX_AGE)
    collected = FIRST_COLLECTION + dt.timedelta(days=rng.randint(0, 330))
    sequenced = collected + dt.timedelta(days=rng.randint(7, 60))
    analysed = sequenced + dt.timedelta(days=rng.randint(2, 30))
    features = _phenotypic_features(rng, age)
    obese = any(f["featureType"]["id"] == OBESITY and not f.get("excluded") for f in features)
    individual: Record = {
        "id": individual_id,
        "sex": _term(rng.choice(SEXES)),
        "ethnicity": _term(rng.choice(ETHNICITIES)),
        "geographicOrigin": _term(rng.choice(ORIGINS)),
        "phenotypicFeatures": features,
        "measures": [
            {
                "assayCode": {"id": "LOINC:35925-4", "label": "BMI"},
                "date": collected.isoformat(),
                "measurementValue": {
                    "value": _bmi(rng, obese),
                    "unit": {"id": "NCIT:C49671", "label": "Kilogram per Square Meter"},
                },
            }
        ],
    }
    diseases = _diseases(rng, age)
    if diseases:
        individual["diseases"] = diseases
    biosample: Record = {
        "id": sample_id,
        "individualId": individual_id,
        "biosampleStatus": {"id": "EFO:0009654", "label": "reference sample"},
        "sampleOriginType": {"id": "UBERON:0000178", "label": "blood"},
        "collectionDate": collected.isoformat(),
        "collectionMoment": f"P{age}Y",
    }
    run: Record = {
        "id": run_id,
        "biosampleId": sample_id,
        "individualId": individual_id,
        "libraryLayout": "PAIRED",
        "librarySelection": "RANDOM",
        "librarySource": {"id": "GENEPIO:0001966", "label": "genomic source"},
        "libraryStrategy": "WGS",
        "platform": "Illumina",
        "platformModel": {"id": "OBI:0002630", "label": "Illumina NovaSeq 6000"},
        "runDate": sequenced.isoformat(),
    }
    analysis: Record = {
        "id": analysis_id,
        "runId": run_id,
        "biosampleId": sample_id,
        "individualId": individual_id,
        "aligner": "bwa-mem2-2.2.1",
        "analysisDate": analysed.isoformat(),
        "pipelineName": "demo-germline-wgs-1.0",
        "variantCaller": "GATK4.5",
    }
    return individual, biosample, run, analysis


def _allele_frequency(rng: random.Random) -> float:
    # Skewed like real cohorts: one variant in ten is common, the rest are log-uniformly rare (~0.05%-2%).
    if rng.random() < 0.1:
        return rng.uniform(0.05, 0.45)
    return 10 ** rng.uniform(-3.3, -1.7)


def _carriers(rng: random.Random, sample_ids: Sequence[str]) -> list[Record]:
    frequency = _allele_frequency(rng)
    homozygous = frequency * frequency  # Hardy-Weinberg
    carrier = homozygous + 2 * frequency * (1 - frequency)
    carriers: list[Record] = []
    for sample_id in sample_ids:
        draw = rng.random()
        if draw < carrier:
            zygosity = HOMOZYGOUS if draw < homozygous else HETEROZYGOUS
            carriers.append({"biosampleId": sample_id, "zygosity": _term(zygosity)})
    if not carriers:
        carriers.append({"biosampleId": rng.choice(sample_ids), "zygosity": _term(HETEROZYGOUS)})
    return carriers


def _alleles(rng: random.Random, kind: VariantKind) -> tuple[str, str]:
    """REF and ALT in VCF style: indels keep the preceding base as the first base of both."""
    anchor = rng.choice(BASES)
    if kind == "SNP":
        return anchor, rng.choice(BASES.replace(anchor, ""))
    if kind in ("DEL", "DUP"):
        return "N", "N"
    extra = "".join(rng.choice(BASES) for _ in range(rng.choice((1, 1, 1, 2, 3, 4, 6))))
    return (anchor + extra, anchor) if kind == "deletion" else (anchor, anchor + extra)


def _hgvs(accession: str, kind: VariantKind, start: int, end: int, ref: str, alt: str) -> str:
    # HGVS positions are 1-based and inclusive; `start`/`end` are 0-based half-open.
    if kind == "SNP":
        return f"{accession}:g.{start + 1}{ref}>{alt}"
    if kind == "insertion":
        return f"{accession}:g.{start + 1}_{start + 2}ins{alt[1:]}"
    if kind == "deletion":
        first, last = start + 2, end
        return f"{accession}:g.{first}del" if first == last else f"{accession}:g.{first}_{last}del"
    return f"{accession}:g.{start + 1}_{end}{kind.lower()}"


def _molecular_attributes(rng: random.Random, kind: VariantKind, gene: str, ref: str, alt: str) -> Record:
    if kind == "SNP":
        effect = rng.choices(SNP_EFFECTS, weights=SNP_EFFECT_WEIGHTS)[0]
    elif kind in ("insertion", "deletion"):
        effect = FRAMESHIFT if (len(ref) - len(alt)) % 3 else INFRAME[kind]
    else:
        effect = CNV_EFFECTS[kind]
    attributes: Record = {"geneIds": [gene], "molecularEffects": [_term(effect)]}
    if effect[1] in ("missense_variant", "stop_gained"):
        before, after = rng.sample(AMINO_ACIDS, 2)
        change = after if effect[1] == "missense_variant" else "*"
        attributes["aminoacidChanges"] = [f"{before}{rng.randint(2, 1800)}{change}"]
    return attributes


def _variant(rng: random.Random, kind: VariantKind, taken: set[tuple[str, int]], sample_ids: Sequence[str]) -> Record:
    chromosome, gene, gene_start, gene_end = rng.choice(LOCI)
    start = rng.randrange(gene_start, gene_end)
    while (chromosome, start) in taken:
        start = rng.randrange(gene_start, gene_end)
    taken.add((chromosome, start))
    ref, alt = _alleles(rng, kind)
    is_cnv = kind in ("DEL", "DUP")
    end = start + (rng.randint(1_000, 20_000) if is_cnv else len(ref))
    accession = GRCH38_REFSEQ[chromosome]
    internal_id = f"{chromosome}:{start + 1}-{end}:{kind}" if is_cnv else f"{chromosome}:{start + 1}:{ref}>{alt}"
    carriers = _carriers(rng, sample_ids)
    alleles = sum(2 if c["zygosity"]["id"] == HOMOZYGOUS[0] else 1 for c in carriers)
    return {
        "variantInternalId": internal_id,
        "variation": {
            "variantType": kind if is_cnv else ("SNP" if kind == "SNP" else "INDEL"),
            "referenceBases": ref,
            "alternateBases": alt,
            "location": {
                "type": "SequenceLocation",
                "sequence_id": f"refseq:{accession}",
                "interval": {
                    "type": "SequenceInterval",
                    "start": {"type": "Number", "value": start},
                    "end": {"type": "Number", "value": end},
                },
            },
        },
        "identifiers": {"genomicHGVSId": _hgvs(accession, kind, start, end, ref, alt)},
        "molecularAttributes": _molecular_attributes(rng, kind, gene, ref, alt),
        "caseLevelData": carriers,
        "frequencyInPopulations": [
            {
                "source": DATASET_ID,
                "sourceReference": "https://example.org/demo",
                "frequencies": [{"population": DATASET_ID, "alleleFrequency": alleles / (2 * len(sample_ids))}],
            }
        ],
    }


def _variants(rng: random.Random, sample_ids: Sequence[str]) -> list[Record]:
    kinds: list[VariantKind] = [kind for kind, count in VARIANT_MIX for _ in range(count)]
    rng.shuffle(kinds)
    taken: set[tuple[str, int]] = set()
    variants = [_variant(rng, kind, taken, sample_ids) for kind in kinds]
    variants.sort(
        key=lambda v: (
            CHROMOSOMES.index(v["variantInternalId"].split(":")[0]),
            v["variation"]["location"]["interval"]["start"]["value"],
        )
    )
    return variants


def _collections(rng: random.Random, individuals: int) -> dict[str, list[Record]]:
    subjects = [_subject(rng, n) for n in range(1, individuals + 1)]
    biosamples = [s[1] for s in subjects]
    return {
        "datasets": [
            {
                "id": DATASET_ID,
                "name": "Demo cohort (synthetic)",
                "description": "Synthetic individuals, blood samples, WGS runs and GRCh38 variants generated for "
                "demonstration and testing. No real person is described.",
                "createDateTime": RELEASED,
                "updateDateTime": RELEASED,
                "version": "v1.0",
            }
        ],
        "cohorts": [
            {
                "id": COHORT_ID,
                "name": "All individuals of the synthetic demo cohort",
                "cohortType": "study-defined",
                "cohortSize": individuals,
                "inclusionCriteria": {"ageRange": {"start": _years(MIN_AGE), "end": _years(MAX_AGE)}},
            }
        ],
        "individuals": [s[0] for s in subjects],
        "biosamples": biosamples,
        "runs": [s[2] for s in subjects],
        "analyses": [s[3] for s in subjects],
        "genomicVariations": _variants(rng, [b["id"] for b in biosamples]),
    }


def _write(path: Path, records: Sequence[Record]) -> None:
    payload = json.dumps(list(records), sort_keys=True, indent=1).encode()
    # An empty file name and mtime 0 keep the gzip header identical between runs.
    with path.open("wb") as raw, gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0) as packed:
        packed.write(payload)


def generate_demo(out_dir: Path, *, individuals: int = 400, seed: int = 20261123) -> dict[str, int]:
    """Write `<collection>.json.gz` files (gzipped JSON arrays) into `out_dir`; return records written per collection.

    The collections are `datasets`, `cohorts`, `individuals`, `biosamples`, `runs`, `analyses` and
    `genomicVariations`; `out_dir` is created if needed and existing files of those names are replaced.

    :raise ValueError: `individuals` is less than 1 (every variant needs a carrier).
    """
    if individuals < 1:
        msg = f"individuals must be at least 1, got {individuals}"
        raise ValueError(msg)
    collections = _collections(random.Random(seed), individuals)
    out_dir.mkdir(parents=True, exist_ok=True)
    for name, records in collections.items():
        _write(out_dir / f"{name}.json.gz", records)
    return {name: len(records) for name, records in collections.items()}
