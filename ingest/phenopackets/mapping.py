"""One GA4GH Phenopacket v2 into Beacon v2 default-model documents (rules in docs/phenopackets.md).

Pure functions: a parsed phenopacket in, documents and per-field problems out. What cannot be
represented in the Beacon model is returned as a problem with its JSON path, never dropped silently.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from beacon.genome.alleles import trim
from beacon.genome.assemblies import canonical_assembly, canonical_chromosome
from beacon.genome.hgvs import HgvsError, parse
from ingest.phenopackets.elements import as_list, as_object, term, time_element
from ingest.vcf.normalize import sequence_type
from ingest.vcf.records import variant_document

# Phenopacket Sex enum -> NCIT terms, as Beacon individuals carry them.
SEX_TERMS = {
    "FEMALE": {"id": "NCIT:C16576", "label": "female"},
    "MALE": {"id": "NCIT:C20197", "label": "male"},
    "OTHER_SEX": {"id": "NCIT:C17649", "label": "Other"},
    "UNKNOWN_SEX": {"id": "NCIT:C17998", "label": "Unknown"},
}
KARYOTYPES = frozenset(
    {"UNKNOWN_KARYOTYPE", "XX", "XY", "XO", "XXY", "XXX", "XXYY", "XXXY", "XXXX", "XYY", "OTHER_KARYOTYPE"}
)
UNKNOWN_TERM = {"id": "NCIT:C17998", "label": "Unknown"}
# A biosample without a material sample or sampled tissue still needs these required Beacon fields.
SPECIMEN = {"id": "OBI:0100051", "label": "specimen"}

Json = dict[str, Any]
# Top-level phenopacket fields that are lists; another value there is reported and not stored.
_LISTS = ("phenotypicFeatures", "diseases", "measurements", "medicalActions", "biosamples", "interpretations")


@dataclass(frozen=True)
class Carrier:
    """One carrier of a variant: its caseLevelData entry and the variant it belongs to."""

    variant: Json  # the genomicVariation document without carriers
    case: Json  # the caseLevelData entry


@dataclass
class Mapped:
    individual: Json
    biosamples: list[Json] = field(default_factory=list)
    carriers: list[Carrier] = field(default_factory=list)
    problems: list[tuple[str, str]] = field(default_factory=list)  # (JSON path, message)


def _evidence(items: object) -> Json | None:
    """Beacon keeps one evidence per feature: the first; phenopackets allow several."""
    if not isinstance(items, list) or not items or not isinstance(items[0], Mapping):
        return None
    first = items[0]
    code = term(first.get("evidenceCode"))
    if code is None:
        return None
    out: Json = {"evidenceCode": code}
    ref = first.get("reference")
    if isinstance(ref, Mapping) and isinstance(ref.get("id"), str):
        reference: Json = {"id": ref["id"]}
        if isinstance(ref.get("reference"), str):
            reference["reference"] = ref["reference"]
        if isinstance(ref.get("description"), str):
            reference["notes"] = ref["description"]
        out["reference"] = reference
    return out


def _with(out: Json, key: str, value: object) -> None:
    if value is not None and value != []:
        out[key] = value


def _each(element: Callable[[Any], Json | None], items: object) -> list[Json]:
    """What `element` maps from each item of a list field (anything else holds none), unmappable items left out."""
    return [mapped for mapped in map(element, as_list(items)) if mapped]


def _text(node: Mapping[str, Any], key: str) -> str | None:
    return node[key] if isinstance(node.get(key), str) else None


def _coded(raw: object, key: str, member: str) -> tuple[Mapping[str, Any], Json] | None:
    """An element object and its Beacon document begun with `member`, the term at `key`.

    None when `raw` is not an object or has no such term: the Beacon element requires it.
    """
    if not isinstance(raw, Mapping):
        return None
    code = term(raw.get(key))
    return None if code is None else (raw, {member: code})


def phenotypic_feature(raw: object) -> Json | None:
    coded = _coded(raw, "type", "featureType")
    if coded is None:
        return None
    node, out = coded
    if node.get("excluded") is True:
        out["excluded"] = True
    _with(out, "onset", time_element(node.get("onset")))
    _with(out, "resolution", time_element(node.get("resolution")))
    _with(out, "severity", term(node.get("severity")))
    _with(out, "modifiers", _each(term, node.get("modifiers")))
    _with(out, "evidence", _evidence(node.get("evidence")))
    _with(out, "notes", _text(node, "description"))
    return out


def disease(raw: object) -> Json | None:
    coded = _coded(raw, "term", "diseaseCode")
    if coded is None:
        return None
    node, out = coded
    _with(out, "ageOfOnset", time_element(node.get("onset")))
    stages = _each(term, node.get("diseaseStage"))
    if stages:
        out["stage"] = stages[0]  # Beacon has one stage; the others go to notes
        if len(stages) > 1:
            out["notes"] = "further stages: " + ", ".join(s["id"] for s in stages[1:])
    return out


def _quantity(node: object) -> Json | None:
    if not isinstance(node, Mapping) or not isinstance(node.get("value"), int | float):
        return None
    unit = term(node.get("unit"))
    if unit is None:
        return None
    out: Json = {"unit": unit, "value": node["value"]}
    rr = node.get("referenceRange")
    if isinstance(rr, Mapping) and term(rr.get("unit")) and {"low", "high"} <= rr.keys():
        out["referenceRange"] = {"unit": term(rr["unit"]), "low": rr["low"], "high": rr["high"]}
    return out


def _procedure(raw: object) -> Json | None:
    coded = _coded(raw, "code", "procedureCode")
    if coded is None:
        return None
    node, out = coded
    _with(out, "bodySite", term(node.get("bodySite")))
    _with(out, "ageAtProcedure", time_element(node.get("performed")))
    return out


def measurement(raw: object) -> Json | None:
    coded = _coded(raw, "assay", "assayCode")
    if coded is None:
        return None
    node, out = coded
    value: Json | None = None
    raw = node.get("value")
    if isinstance(raw, Mapping):
        value = _quantity(raw.get("quantity")) or term(raw.get("ontologyClass"))
    elif isinstance(node.get("complexValue"), Mapping):
        typed = []
        for tq in as_list(node["complexValue"].get("typedQuantities")):
            q = _quantity(tq.get("quantity")) if isinstance(tq, Mapping) else None
            kind = term(tq.get("type")) if isinstance(tq, Mapping) else None
            if q and kind:
                typed.append({"quantityType": kind, "quantity": q})
        value = {"typedQuantities": typed} if typed else None
    if value is None:
        return None
    out["measurementValue"] = value
    _with(out, "observationMoment", time_element(node.get("timeObserved")))
    _with(out, "procedure", _procedure(node.get("procedure")))
    _with(out, "notes", _text(node, "description"))
    return out


def _medical_actions(actions: list[Any], out: Json, problems: list[tuple[str, str]]) -> None:
    treatments: list[Json] = []
    procedures: list[Json] = []
    for n, action in enumerate(actions):
        where = f"$.medicalActions[{n}]"
        if not isinstance(action, Mapping):
            problems.append((where, "not an object"))
            continue
        if "procedure" in action and (p := _procedure(action["procedure"])):
            procedures.append(p)
        elif isinstance(action.get("treatment"), Mapping) and (agent := term(action["treatment"].get("agent"))):
            t: Json = {"treatmentCode": agent}
            _with(t, "routeOfAdministration", term(action["treatment"].get("routeOfAdministration")))
            cumulative = _quantity(action["treatment"].get("cumulativeDose"))
            _with(t, "cumulativeDose", cumulative)
            treatments.append(t)
        elif isinstance(action.get("radiationTherapy"), Mapping) and (
            modality := term(action["radiationTherapy"].get("modality"))
        ):
            treatments.append({"treatmentCode": modality})
        elif isinstance(action.get("therapeuticRegimen"), Mapping) and (
            regimen := term(action["therapeuticRegimen"].get("ontologyClass"))
        ):
            treatments.append({"treatmentCode": regimen})
        else:
            problems.append((where, "no procedure, treatment agent, radiation modality or regimen term to map"))
    _with(out, "treatments", treatments)
    _with(out, "interventionsOrProcedures", procedures)


def biosample(node: Mapping[str, Any], individual_id: str) -> Json | None:
    if not isinstance(node.get("id"), str) or not node["id"]:
        return None
    out: Json = {
        "id": node["id"],
        # A phenopacket's biosamples are its subject's: the phenopacket names the subject by its own id,
        # but the stored individual may be keyed otherwise (--id-from phenopacket), so link to that.
        "individualId": individual_id,
        "biosampleStatus": term(node.get("materialSample")) or dict(UNKNOWN_TERM),
        "sampleOriginType": term(node.get("sampledTissue")) or dict(SPECIMEN),
    }
    _with(out, "histologicalDiagnosis", term(node.get("histologicalDiagnosis")))
    _with(out, "tumorProgression", term(node.get("tumorProgression")))
    _with(out, "tumorGrade", term(node.get("tumorGrade")))
    _with(out, "pathologicalStage", term(node.get("pathologicalStage")))
    _with(out, "pathologicalTnmFinding", _each(term, node.get("pathologicalTnmFinding")))
    _with(out, "diagnosticMarkers", _each(term, node.get("diagnosticMarkers")))
    _with(out, "sampleProcessing", term(node.get("sampleProcessing")))
    _with(out, "sampleStorage", term(node.get("sampleStorage")))
    _with(out, "obtentionProcedure", _procedure(node.get("procedure")))
    _with(out, "phenotypicFeatures", _each(phenotypic_feature, node.get("phenotypicFeatures")))
    _with(out, "measurements", _each(measurement, node.get("measurements")))
    if isinstance(node.get("description"), str):
        out["notes"] = node["description"]
    return out


def _allele(descriptor: Mapping[str, Any], assembly: str) -> tuple[str, int, str, str] | str:
    """(chrom, 1-based pos, ref, alt) of a variation descriptor, trimmed; or why it has none."""
    vcf = descriptor.get("vcfRecord")
    if isinstance(vcf, Mapping):
        stated = canonical_assembly(str(vcf.get("genomeAssembly", "")))
        if stated is None:
            return f"vcfRecord.genomeAssembly: unknown assembly {vcf.get('genomeAssembly')!r}"
        if stated != assembly:
            return f"vcfRecord.genomeAssembly: {stated}, but the dataset is on {assembly}"
        chrom = canonical_chromosome(str(vcf.get("chrom", "")))
        ref, alt = str(vcf.get("ref", "")).upper(), str(vcf.get("alt", "")).upper()
        try:
            pos = int(vcf.get("pos", ""))
        except (TypeError, ValueError):
            return f"vcfRecord.pos: not a position: {vcf.get('pos')!r}"
        if chrom is None:
            return f"vcfRecord.chrom: unknown chromosome {vcf.get('chrom')!r}"
        if not ref or not alt or not set(ref + alt) <= set("ACGTN"):
            return f"vcfRecord: REF/ALT must be nucleotide sequences, got {ref!r}/{alt!r}"
        pos, ref, alt = trim(pos, ref, alt)
        return chrom, pos, ref, alt
    for expression in as_list(descriptor.get("expressions")):
        if isinstance(expression, Mapping) and expression.get("syntax") == "hgvs.g":
            try:
                allele = parse(str(expression.get("value", "")))
            except HgvsError as exc:
                return f"expressions: {exc}"
            if allele.assembly not in (None, assembly):
                return f"expressions: {expression.get('value')} is on {allele.assembly}, the dataset on {assembly}"
            if allele.kind == "substitution" and allele.ref and allele.alt:
                return allele.chrom, allele.start + 1, allele.ref, allele.alt
            return f"expressions: {expression.get('value')}: without a vcfRecord only substitutions have both alleles"
    label = descriptor.get("label") or as_object(descriptor.get("structuralType")).get("label")
    what = f" ({label})" if label else ""
    return f"no vcfRecord or genomic HGVS: the variant{what} has no position to store"


def variant(descriptor: Mapping[str, Any], assembly: str) -> Json | str:
    """The genomicVariation of a variation descriptor (no carriers yet), or why there is none."""
    found = _allele(descriptor, assembly)
    if isinstance(found, str):
        return found
    chrom, pos, ref, alt = found
    start = pos - 1
    doc = variant_document(
        chrom=chrom, assembly=assembly, start=start, end=start + len(ref), ref=ref, alt=alt,
        variant_type=sequence_type(ref, alt), pos=pos, internal_id=f"{chrom}:{pos}:{ref}>{alt}",
    )  # fmt: skip
    transcripts, proteins = [], []
    for expression in as_list(descriptor.get("expressions")):
        if not isinstance(expression, Mapping) or not isinstance(expression.get("value"), str):
            continue
        if expression.get("syntax") in ("hgvs.c", "hgvs.n"):
            transcripts.append(expression["value"])
        elif expression.get("syntax") == "hgvs.p":
            proteins.append(expression["value"])
    if transcripts:
        doc.setdefault("identifiers", {})["transcriptHGVSIds"] = transcripts
    if proteins:
        doc.setdefault("identifiers", {})["proteinHGVSIds"] = proteins
    gene = descriptor.get("geneContext")
    if isinstance(gene, Mapping) and isinstance(gene.get("symbol"), str):
        doc["molecularAttributes"] = {"geneIds": [gene["symbol"]]}
    return doc


def _interpretations(packet: Mapping[str, Any]) -> Iterator[tuple[str, Mapping[str, Any], Json | None]]:
    """(JSON path, genomic interpretation, diagnosed disease term) for every interpretation."""
    for i, interpretation in enumerate(as_list(packet.get("interpretations"))):
        diagnosis = as_object(as_object(interpretation).get("diagnosis"))
        condition = term(diagnosis.get("disease"))
        for g, gi in enumerate(as_list(diagnosis.get("genomicInterpretations"))):
            if isinstance(gi, Mapping):
                yield f"$.interpretations[{i}].diagnosis.genomicInterpretations[{g}]", gi, condition


def map_phenopacket(packet: Mapping[str, Any], individual_id: str, assembly: str | None) -> Mapped:
    """The Beacon documents of one phenopacket; `assembly` is the dataset's (None: variants are reported)."""
    subject = as_object(packet.get("subject"))
    sex = subject.get("sex", "UNKNOWN_SEX")
    individual: Json = {"id": individual_id, "sex": dict(SEX_TERMS.get(str(sex), UNKNOWN_TERM))}
    problems: list[tuple[str, str]] = []
    if not isinstance(sex, str) or sex not in SEX_TERMS:
        problems.append(("$.subject.sex", f"unknown sex {sex!r}; stored as Unknown"))
    karyotype = subject.get("karyotypicSex")
    if isinstance(karyotype, str) and karyotype in KARYOTYPES:
        individual["karyotypicSex"] = karyotype
    for key in _LISTS:
        if key in packet and not isinstance(packet[key], list | None):
            problems.append((f"$.{key}", f"expected a list, got {type(packet[key]).__name__}: not stored"))
    features = as_list(packet.get("phenotypicFeatures"))
    _with(individual, "phenotypicFeatures", _each(phenotypic_feature, features))
    diseases = [d for d in as_list(packet.get("diseases")) if isinstance(d, Mapping)]
    present = (d for d in diseases if d.get("excluded") is not True)
    _with(individual, "diseases", [x for x in map(disease, present) if x])
    _with(individual, "measures", _each(measurement, packet.get("measurements")))
    _medical_actions(as_list(packet.get("medicalActions")), individual, problems)
    info: Json = {"phenopacketId": packet.get("id"), "subjectId": subject.get("id")}
    for key in ("timeAtLastEncounter", "vitalStatus", "dateOfBirth", "taxonomy"):
        if key in subject:
            info[key] = subject[key]
    excluded = [term(d.get("term")) for d in diseases if d.get("excluded") is True]
    _with(info, "excludedDiseases", [t for t in excluded if t])
    if isinstance(packet.get("metaData"), Mapping):
        refs = [r.get("id") for r in as_list(packet["metaData"].get("externalReferences")) if isinstance(r, Mapping)]
        _with(info, "externalReferences", [r for r in refs if isinstance(r, str)])
    individual["info"] = info
    for n, feature in enumerate(features):
        if phenotypic_feature(feature if isinstance(feature, Mapping) else {}) is None:
            problems.append((f"$.phenotypicFeatures[{n}].type", "missing or without a CURIE id: feature not stored"))
            continue
        for m, modifier in enumerate(as_list(feature.get("modifiers"))):
            if term(modifier) is None:
                message = (
                    f"{modifier.get('id') if isinstance(modifier, Mapping) else modifier!r}: not a CURIE: not stored"
                )
                problems.append((f"$.phenotypicFeatures[{n}].modifiers[{m}]", message))
    mapped = Mapped(individual, problems=problems)
    biosample_ids = set()
    for n, node in enumerate(as_list(packet.get("biosamples"))):
        doc = biosample(node, individual_id) if isinstance(node, Mapping) else None
        if doc is None:
            problems.append((f"$.biosamples[{n}].id", "missing or not a non-empty string"))
            continue
        biosample_ids.add(doc["id"])
        mapped.biosamples.append(doc)
    for where, gi, condition in _interpretations(packet):
        descriptor = as_object(gi.get("variantInterpretation")).get("variationDescriptor")
        if not isinstance(descriptor, Mapping):
            problems.append((where, "no variantInterpretation.variationDescriptor (gene descriptors are not variants)"))
            continue
        if assembly is None:
            problems.append((f"{where}.variantInterpretation", "the dataset's assembly is unknown; pass --assembly"))
            continue
        found = variant(descriptor, assembly)
        if isinstance(found, str):
            problems.append((f"{where}.variantInterpretation.variationDescriptor", found))
            continue
        named = gi.get("subjectOrBiosampleId")
        # Beacon requires a biosampleId per carrier; a phenopacket's variants usually belong to the
        # subject, whose individual id then stands in for it (docs/phenopackets.md).
        sample = named if isinstance(named, str) and named in biosample_ids else individual_id
        case: Json = {"biosampleId": sample, "individualId": individual_id}
        _with(case, "zygosity", term(descriptor.get("allelicState")))
        if condition is not None:
            case["clinicalInterpretations"] = [{"conditionId": condition["id"], "effect": condition}]
        mapped.carriers.append(Carrier(found, case))
    return mapped
