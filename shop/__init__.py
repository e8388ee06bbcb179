"""The CPT shop: candidates, results, credentials and purchases."""
