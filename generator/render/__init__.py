"""Rendering: the Jinja environment, the MkDocs site and the PDF narratives."""
