"""`python -m beacon` runs the `beacon` command line."""

from beacon.cli import main

raise SystemExit(main())
