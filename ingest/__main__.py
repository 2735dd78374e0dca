"""`python -m ingest` runs the `beacon-ingest` command line."""

from ingest.cli import main

raise SystemExit(main())
