"""Stage 6, signing: sign the rendered narratives (PAdES, pyHanko) and verify them.

Takes: PDF bytes from :mod:`generator.render`. Gives: signed PDFs (:mod:`.sign`, with
the production key or the development signer of :mod:`.devsigner`) and verdicts on
signed PDFs (:mod:`.verify`).
"""
