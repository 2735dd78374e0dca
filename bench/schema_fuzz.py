"""Schema-driven fuzzing: schemathesis generates requests from the served `/api/openapi.json`.

    make fuzz                       # FUZZ_EXAMPLES per operation (default 200), summary in bench/results/
    .venv/bin/python bench/schema_fuzz.py --st var/fuzz-venv/bin/st --examples 200

`beacon serve` on the CINECA store (built on first use, as bench/throughput.py does); schemathesis
runs every operation of the document, GET and POST, with valid and invalid inputs, and checks that
no answer is a 5xx and that every answer conforms to the document (status codes, content type,
headers, response schemas, `Allow` on 405). The two checks on which inputs must be accepted or
refused are off: the document cannot express the rules behind them (docs/openapi.md lists them).
Exits 1 on any failed check; the summary (requests sent, 5xx count, failures by check) goes to --out.

schemathesis lives in its own virtual environment (`make fuzz` creates it): it pins jsonschema-rs to
a version other than the one the beacon's ingest uses.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from fairness import CONFIG  # noqa: E402
from throughput import DATASET, DB, ROOT, ensure_store, free_port, wait_for  # noqa: E402

CHECKS = ",".join(
    [
        "not_a_server_error",
        "status_code_conformance",
        "content_type_conformance",
        "response_headers_conformance",
        "response_schema_conformance",
        "unsupported_method",
        "allow_header_conformance",
    ]
)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--st", type=Path, default=ROOT / "var" / "fuzz-venv" / "bin" / "st")
    parser.add_argument("--examples", type=int, default=int(os.environ.get("FUZZ_EXAMPLES", "200")))
    parser.add_argument("--seed", type=int, default=20261206)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "schema_fuzz.json")
    args = parser.parse_args()
    ensure_store()
    port = free_port()
    bin_dir = Path(sys.executable).parent
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        conf = Path(tmp) / "beacon.yaml"
        conf.write_text(CONFIG.format(db=DB, dataset=DATASET))
        report = Path(tmp) / "report.json"
        env = {k: v for k, v in os.environ.items() if not k.startswith("BEACON_") or k == "BEACON_SPEC_DIR"}
        env["PYTHONPATH"] = str(ROOT)
        server = subprocess.Popen(
            [bin_dir / "python", "-m", "beacon", "serve", "--config", conf, "--port", str(port)],
            env=env,
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            wait_for(port)
            argv = [
                str(args.st),
                "run",
                f"http://127.0.0.1:{port}/api/openapi.json",
                "--checks",
                CHECKS,
                "--max-examples",
                str(args.examples),
                "--seed",
                str(args.seed),
                "--workers",
                "2",
                "--continue-on-failure",
                "--request-timeout",
                "60",
                "--report-json-path",
                str(report),
                "--output-truncate",
                "true",
                "--generation-database",
                "none",  # no example database left in the checkout: every run starts from --seed
            ]
            run = subprocess.run(argv, check=False)
        finally:
            server.terminate()
            server.wait()
        data = json.loads(report.read_text())
    failures = {f["code"] + " " + f["title"]: f["count"] for f in data.get("failures", [])}
    summary = {
        "requests": data["test_cases"]["generated"],
        "operations": data.get("operations"),
        "examples_per_operation": args.examples,
        "5xx": sum(n for name, n in failures.items() if "server error" in name.lower()),
        "failures": failures,
        "errors": len(data.get("errors", [])),
        "exit_code": run.returncode,
    }
    args.out.write_text(json.dumps(summary, indent=1) + "\n")
    print(json.dumps(summary, indent=1))
    # schemathesis's own errors (a generator crashing inside Hypothesis) are reported, not the server's fault.
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
