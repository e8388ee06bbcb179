"""Static site generator for the CPT program site."""
