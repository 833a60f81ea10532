"""Findings as text (terminal), JSON (documented, versioned) and SARIF 2.1.0."""
