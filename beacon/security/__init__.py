"""Who may see which dataset, and at which granularity."""
