"""Open Badges 3.0 credentials, signed: JSON-LD contexts, eddsa-rdfc-2022 proofs, keys, DID."""
