"""Attestation: evidence from the teespark TA, its verification, and the
expected TA measurement a verifier or key broker compares it with."""
