"""`python -m ingest` runs the `beacon-ingest` command line."""

from ingest.entry import main

raise SystemExit(main())
