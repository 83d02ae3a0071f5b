"""schemathesis hooks for Mercato's contract fuzzing (loaded through schemathesis.toml).

Every list takes an opaque `cursor` (OpenAPI `format: page-cursor`): only the service can mint a valid one, so the
fuzzer draws cursors the running service issued (MERCATO_FUZZ_CURSORS, a JSON list collected by the test) or sends the
empty cursor, which means "first page". Anything else it generated would be refused with 400 by design.
"""
import json
import os

import schemathesis
from hypothesis import strategies as st

_cursors = [""] + json.loads(os.environ.get("MERCATO_FUZZ_CURSORS", "[]"))

schemathesis.openapi.format("page-cursor", st.sampled_from(_cursors))

# Memes' `base` (format `meme-base`) names a base meme of the corpus; any other is a 400 by design (issue 10).
schemathesis.openapi.format("meme-base", st.sampled_from(["Courage Wolf", "Baby Courage Wolf", "Philosoraptor", "Y U No", "Success Kid"]))


def _number(value):
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


# What a cursor is bound to: products' sort and order (and `q`), the whole search for memes (its words, fuzzy, base
# and place). The drawn cursors come from each list's default first page, so they go only without these.
_cursor_bound = ("q", "sort", "order", "query", "fuzzy", "base", "lat", "lon", "radiusKm")


@schemathesis.hook
def filter_case(ctx, case):
    """Drops generated searches that break a rule across parameters, which OpenAPI cannot state and the service refuses
    with 400 by design (products' GET /products): a cursor is bound to the ordering it was issued in (the drawn ones
    come from the default ordering, so a cursor goes only without `q`, `sort` and `order`); `price_min` above
    `price_max`; `subtree` without `category`; a numeric `from` above `to` (audit's GET /audit/verify); memes' `query`
    without a letter or digit; a `page` number
    with a `cursor` (users' GET /users takes one or the other); memes' `lat` without `lon` (or the reverse), `radiusKm`
    without both, and coordinates or radius out of their range (sent as decimal strings, whose bounds the document
    cannot state). A `filter_case` hook, since schemathesis applies it in every phase
    (`filter_query` would leave the coverage phase's cases alone)."""
    query = case.query
    if not query:
        return True
    if query.get("cursor") and any(query.get(name) not in (None, "") for name in _cursor_bound):
        return False
    low, high = _number(query.get("price_min")), _number(query.get("price_max"))
    if low is not None and high is not None and low > high:
        return False
    if query.get("subtree") is not None and not query.get("category"):
        return False
    if query.get("page") not in (None, "") and query.get("cursor"):
        return False
    has = lambda name: query.get(name) not in (None, "")
    if has("lat") != has("lon") or (has("radiusKm") and not (has("lat") and has("lon"))):
        return False
    radius = _number(query.get("radiusKm"))
    if radius is not None and not 0 < radius <= 20000:
        return False
    for name, bound in (("lat", 90), ("lon", 180)):
        value = _number(query.get(name))
        if value is not None and abs(value) > bound:
            return False
    start, end = _number(query.get("from")), _number(query.get("to"))
    if start is not None and end is not None and start > end:
        return False
    # Memes' `query` must hold a letter or a digit of any script (\p{L}\p{N}, which an OpenAPI pattern cannot say in a
    # way Python's re reads); str.isalnum covers the same classes.
    text = query.get("query")
    if isinstance(text, str) and text.strip() and not any(c.isalnum() for c in text):
        return False
    return True
