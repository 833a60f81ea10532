"""A synthetic, valid catalog of any size, deterministic from a seed (see ``make_catalog``).

The world is built one system at a time: its accounts, its extracts over the year, the
reviews of its populations and the registers that mention it, so that memory stays
bounded by one system however many entitlement rows the catalog has.
"""
