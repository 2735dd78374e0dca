"""Deterministic synthetic demo cohort in Beacon-Friendly-Format: individuals, biosamples, runs, analyses, variants.

Everything comes from `random.Random(seed)`, JSON is written with sorted keys and gzip with mtime 0,
so the same arguments always produce byte-identical files (and a re-run of `beacon demo` is a
no-op load). The terms are real ontology terms with their real labels; the people are not real.
"""

from __future__ import annotations

import gzip
import json
import random
from collections.abc import Sequence
from pathlib import Path
from typing import Any

DATASET_ID = "demo-cohort"
COHORT_ID = "demo-cohort-all"
GRCH38_ACCESSIONS = {"1": "NC_000001.11", "2": "NC_000002.12", "7": "NC_000007.14", "13": "NC_000013.11",
                     "17": "NC_000017.11", "22": "NC_000022.11", "X": "NC_000023.11"}  # fmt: skip
SEXES = (("NCIT:C16576", "female"), ("NCIT:C20197", "male"))
ETHNICITIES = (("NCIT:C43851", "European"), ("NCIT:C42331", "African"), ("NCIT:C41260", "Asian"),
               ("NCIT:C126531", "Latin American"))  # fmt: skip
ORIGINS = (("GAZ:00002641", "England"), ("GAZ:00002724", "Germany"), ("GAZ:00002650", "Netherlands"),
           ("GAZ:00000911", "Spain"))  # fmt: skip
DISEASES = (
    ("MONDO:0005148", "type 2 diabetes mellitus"),
    ("MONDO:0004975", "Alzheimer disease"),
    ("MONDO:0009061", "cystic fibrosis"),
    ("MONDO:0005044", "hypertensive disorder"),
    ("MONDO:0007254", "breast cancer"),
    ("MONDO:0005015", "diabetes mellitus"),
    ("MONDO:0005027", "epilepsy"),
    ("MONDO:0004979", "asthma"),
    ("MONDO:0005301", "multiple sclerosis"),
    ("MONDO:0011122", "obesity disorder"),
)
# Parent and child terms both appear, so descendant-term filtering has something to find.
PHENOTYPES = (
    ("HP:0001250", "Seizure"),
    ("HP:0002069", "Bilateral tonic-clonic seizure"),
    ("HP:0007359", "Focal-onset seizure"),
    ("HP:0001263", "Global developmental delay"),
    ("HP:0000707", "Abnormality of the nervous system"),
    ("HP:0001626", "Abnormality of the cardiovascular system"),
    ("HP:0001627", "Abnormal heart morphology"),
    ("HP:0001631", "Atrial septal defect"),
    ("HP:0000822", "Hypertension"),
    ("HP:0001513", "Obesity"),
    ("HP:0002664", "Neoplasm"),
    ("HP:0100013", "Neoplasm of the breast"),
    ("HP:0002099", "Asthma"),
    ("HP:0000365", "Hearing impairment"),
    ("HP:0000505", "Visual impairment"),
    ("HP:0001249", "Intellectual disability"),
    ("HP:0002315", "Headache"),
    ("HP:0012378", "Fatigue"),
    ("HP:0000118", "Phenotypic abnormality"),
    ("HP:0004322", "Short stature"),
)
# (chromosome, gene, region start on GRCh38) of loci the demo variants fall in.
LOCI = (
    ("13", "BRCA2", 32_315_508),
    ("17", "BRCA1", 43_044_295),
    ("7", "CFTR", 117_480_025),
    ("1", "MTHFR", 11_785_730),
    ("2", "MSH2", 47_403_067),
    ("22", "COMT", 19_941_740),
    ("X", "DMD", 31_097_677),
)
EFFECTS = (("SO:0001583", "missense_variant"), ("SO:0001819", "synonymous_variant"),
           ("SO:0001627", "intron_variant"), ("SO:0001589", "frameshift_variant"))  # fmt: skip
AMINO_ACIDS = "ACDEFGHIKLMNPQRSTVWY"
BASES = "ACGT"
HET = {"id": "GENO:0000458", "label": "heterozygous"}
HOM = {"id": "GENO:0000136", "label": "homozygous"}


def _age(rng: random.Random, low: int, high: int) -> dict[str, str]:
    return {"iso8601duration": f"P{rng.randint(low, high)}Y"}


def _individual(rng: random.Random, n: int) -> dict[str, Any]:
    sex = SEXES[rng.random() < 0.5]
    age = rng.randint(18, 90)
    features = []
    for term in rng.sample(PHENOTYPES, rng.randint(1, 4)):
        feature: dict[str, Any] = {"featureType": {"id": term[0], "label": term[1]}, "onset": _age(rng, 0, age)}
        if rng.random() < 0.08:
            feature["excluded"] = True
        features.append(feature)
    diseases = [
        {"diseaseCode": {"id": d[0], "label": d[1]}, "ageOfOnset": _age(rng, 1, age)}
        for d in rng.sample(DISEASES, rng.choice((0, 1, 1, 2)))
    ]
    height = rng.gauss(176 if sex[1] == "male" else 163, 7) / 100
    bmi = round(rng.gauss(26.5, 4.5), 1)
    individual: dict[str, Any] = {
        "id": f"DEMO-{n:04d}",
        "sex": {"id": sex[0], "label": sex[1]},
        "ethnicity": dict(zip(("id", "label"), rng.choice(ETHNICITIES), strict=True)),
        "geographicOrigin": dict(zip(("id", "label"), rng.choice(ORIGINS), strict=True)),
        "phenotypicFeatures": features,
        "measures": [
            {
                "assayCode": {"id": "LOINC:35925-4", "label": "BMI"},
                "date": f"2024-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}",
                "measurementValue": {"value": bmi, "unit": {"id": "NCIT:C49671", "label": "Kilogram per Square Meter"}},
            },
            {
                "assayCode": {"id": "LOINC:8302-2", "label": "Body height"},
                "measurementValue": {
                    "value": round(height * 100, 1),
                    "unit": {"id": "NCIT:C49668", "label": "Centimeter"},
                },
            },
        ],
        "info": {"ageAtEnrolment": f"P{age}Y"},
    }
    if diseases:
        individual["diseases"] = diseases
    return individual


def _samples(individuals: Sequence[dict[str, Any]]) -> tuple[list[dict[str, Any]], ...]:
    biosamples, runs, analyses = [], [], []
    for n, person in enumerate(individuals, start=1):
        sample = f"DEMO-BS-{n:04d}"
        biosamples.append(
            {
                "id": sample,
                "individualId": person["id"],
                "biosampleStatus": {"id": "EFO:0009654", "label": "reference sample"},
                "sampleOriginType": {"id": "UBERON:0000178", "label": "blood"},
                "collectionDate": "2024-03-01",
                "collectionMoment": person["info"]["ageAtEnrolment"],
            }
        )
        runs.append(
            {
                "id": f"DEMO-RUN-{n:04d}",
                "biosampleId": sample,
                "individualId": person["id"],
                "libraryLayout": "PAIRED",
                "librarySource": {"id": "GENEPIO:0001966", "label": "genomic source"},
                "libraryStrategy": "WGS",
                "platform": "Illumina",
                "platformModel": {"id": "OBI:0002630", "label": "Illumina NovaSeq 6000"},
                "runDate": "2024-04-01",
            }
        )
        analyses.append(
            {
                "id": f"DEMO-AN-{n:04d}",
                "runId": f"DEMO-RUN-{n:04d}",
                "biosampleId": sample,
                "individualId": person["id"],
                "aligner": "bwa-mem2-2.2.1",
                "analysisDate": "2024-04-15",
                "pipelineName": "demo-germline-1.0",
                "variantCaller": "GATK4.5",
            }
        )
    return biosamples, runs, analyses


def _alleles(rng: random.Random, kind: str) -> tuple[str, str]:
    first = rng.choice(BASES)
    if kind == "SNP":
        return first, rng.choice([b for b in BASES if b != first])
    extra = "".join(rng.choice(BASES) for _ in range(rng.randint(1, 6)))
    # VCF-style indels share their first base.
    return (first + extra, first) if kind == "DEL" else (first, first + extra)


def _hgvs(accession: str, start: int, ref: str, alt: str, kind: str, end: int) -> str:
    if kind == "SNP":
        return f"{accession}:g.{start + 1}{ref}>{alt}"
    if kind == "DEL":
        first, last = start + 2, start + len(ref)
        return f"{accession}:g.{first}del" if first == last else f"{accession}:g.{first}_{last}del"
    if kind == "INS":
        return f"{accession}:g.{start + 1}_{start + 2}ins{alt[1:]}"
    return f"{accession}:g.{start + 1}_{end}{'del' if kind == 'CNV-DEL' else 'dup'}"


def _variants(rng: random.Random, biosamples: Sequence[dict[str, Any]], count: int) -> list[dict[str, Any]]:
    variants: list[dict[str, Any]] = []
    sites: set[tuple[str, int]] = set()
    while len(variants) < count:
        chrom, gene, region = rng.choice(LOCI)
        start = region + rng.randint(0, 80_000)
        if (chrom, start) in sites:
            continue
        sites.add((chrom, start))
        kind = rng.choices(("SNP", "DEL", "INS", "CNV-DEL", "CNV-DUP"), weights=(80, 8, 8, 2, 2))[0]
        accession = GRCH38_ACCESSIONS[chrom]
        if kind.startswith("CNV"):
            ref, alt, end = "N", "N", start + rng.randint(1_000, 20_000)
            vtype = "DEL" if kind == "CNV-DEL" else "DUP"
        else:
            ref, alt = _alleles(rng, kind)
            end = start + len(ref)
            vtype = "SNP" if kind == "SNP" else "INDEL"
        # Skewed frequencies: most variants rare, a few common.
        frequency = min(0.6, rng.paretovariate(1.6) / 200)
        carriers = []
        for sample in biosamples:
            draw = rng.random()
            if draw < frequency * frequency:
                carriers.append({"biosampleId": sample["id"], "zygosity": HOM})
            elif draw < 2 * frequency:
                carriers.append({"biosampleId": sample["id"], "zygosity": HET})
        if not carriers:
            carriers.append({"biosampleId": rng.choice(biosamples)["id"], "zygosity": HET})
        alleles = sum(2 if c["zygosity"] is HOM else 1 for c in carriers)
        effect = rng.choice(EFFECTS) if kind == "SNP" else ("SO:0001589", "frameshift_variant")
        attributes: dict[str, Any] = {"geneIds": [gene], "molecularEffects": [{"id": effect[0], "label": effect[1]}]}
        if effect[1] == "missense_variant":
            a, b = rng.sample(AMINO_ACIDS, 2)
            attributes["aminoacidChanges"] = [f"{a}{rng.randint(10, 2000)}{b}"]
        variants.append(
            {
                "variantInternalId": f"{chrom}:{start + 1}:{ref}>{alt}"
                if vtype != "DUP"
                else f"{chrom}:{start + 1}:DUP",
                "variation": {
                    "variantType": vtype,
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
                "identifiers": {"genomicHGVSId": _hgvs(accession, start, ref, alt, kind, end)},
                "molecularAttributes": attributes,
                "caseLevelData": carriers,
                "frequencyInPopulations": [
                    {
                        "source": "Demo cohort",
                        "sourceReference": "https://example.org/demo-cohort",
                        "frequencies": [
                            {"population": "demo-cohort", "alleleFrequency": round(alleles / (2 * len(biosamples)), 6)}
                        ],
                    }
                ],
            }
        )
    variants.sort(
        key=lambda v: (
            v["variation"]["location"]["sequence_id"],
            v["variation"]["location"]["interval"]["start"]["value"],
        )
    )
    return variants


def _write(path: Path, records: Sequence[dict[str, Any]]) -> None:
    data = json.dumps(list(records), sort_keys=True, indent=1).encode()
    with path.open("wb") as raw, gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0) as handle:
        handle.write(data)


def generate_demo(out_dir: Path, *, individuals: int = 400, seed: int = 20261123) -> dict[str, int]:
    """Write `<collection>.json.gz` BFF files into `out_dir`; return the records written per collection."""
    rng = random.Random(seed)
    people = [_individual(rng, n) for n in range(1, individuals + 1)]
    biosamples, runs, analyses = _samples(people)
    files: dict[str, list[dict[str, Any]]] = {
        "datasets": [
            {
                "id": DATASET_ID,
                "name": "Demo cohort (synthetic)",
                "description": "Synthetic individuals, samples and GRCh38 variants generated for demonstration. "
                "No real person is described.",
                "createDateTime": "2026-11-23T00:00:00Z",
                "updateDateTime": "2026-11-23T00:00:00Z",
                "version": "v1",
            }
        ],
        "cohorts": [
            {
                "id": COHORT_ID,
                "name": "Everyone in the demo cohort",
                "cohortType": "study-defined",
                "inclusionCriteria": {
                    "ageRange": {"start": {"iso8601duration": "P18Y"}, "end": {"iso8601duration": "P90Y"}}
                },
            }
        ],
        "individuals": people,
        "biosamples": biosamples,
        "runs": runs,
        "analyses": analyses,
        "genomicVariations": _variants(rng, biosamples, 150),
    }
    out_dir.mkdir(parents=True, exist_ok=True)
    for name, records in files.items():
        _write(out_dir / f"{name}.json.gz", records)
    return {name: len(records) for name, records in files.items()}
