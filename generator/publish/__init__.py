"""Stage 7, publish: put it all together into the output folder, atomically.

Takes: a catalog folder. Gives: the site with its signed narratives (:mod:`.build`, which
runs catalog → evidence → evaluation → views → render → signing), and a live-reload
preview of it (:mod:`.serve`).
"""
