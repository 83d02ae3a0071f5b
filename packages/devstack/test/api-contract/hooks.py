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
