"""Hypothesis strategies for hostile input: what a confused model, a buggy client or an attacker sends."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

# Query syntax of the stores' engines, quoting tricks and filter injection.
SYNTAX = [
    '"',
    "'",
    "*",
    "NEAR(",
    "NEAR(a b, 2)",
    "OR",
    "AND NOT",
    "a OR b",
    '"unclosed',
    "col:term",
    "^start",
    "') OR 1=1 --",
    "id = 'x' OR true",
    "x' OR id IS NOT NULL OR 'a'='a",
    "'; DROP TABLE memories; --",
    "%",
    "_",
    "\\",
    "{}",
    "[]",
    "$where",
    "${jndi:x}",
    "../../etc/passwd",
    "NULL",
    "true",
    "-1",
    "1e309",
]
CONTROL = "".join(chr(c) for c in [*range(0, 32), 127, 0x85, 0x2028, 0x2029, 0x200B, 0xFEFF, 0x202E])

hostile_text = st.one_of(
    st.sampled_from(SYNTAX),
    st.lists(st.sampled_from(SYNTAX), min_size=1, max_size=6).map(" ".join),
    st.text(max_size=200),
    st.text(alphabet=st.characters(codec=None, categories=["Cs", "Cc", "Zs", "Lo"]), max_size=40),
    st.text(alphabet=CONTROL, max_size=20),
    st.integers(1, 200_000).map(lambda n: "z" * n),
    st.integers(1, 5_000).map(lambda n: "é\U0001f600" * n),
)

bad_floats = st.one_of(
    st.sampled_from([float("nan"), float("inf"), float("-inf"), -0.0, -1.0, 1.0000001, 1e308]),
    st.floats(allow_nan=True, allow_infinity=True),
)


def _deep(depth: int) -> Any:
    value: Any = "leaf"
    for level in range(depth):
        value = [value] if level % 2 else {"k": value}
    return value


deep_json = st.integers(1, 200).map(_deep)  # deeper cannot even be sent in-process; see the stdio test
json_values = st.recursive(
    st.none() | st.booleans() | bad_floats | st.integers() | hostile_text,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner, max_size=4),
    max_leaves=12,
)
anything = st.one_of(hostile_text, bad_floats, deep_json, json_values, st.integers(-(2**70), 2**70))

memory_ids = st.one_of(
    hostile_text,
    st.uuids().map(str),
    st.uuids().map(lambda u: str(u).upper().replace("-", "")),
    st.uuids().map(lambda u: f"{{{u}}}"),
    st.uuids().map(lambda u: f"urn:uuid:{u}"),
    st.uuids().map(lambda u: f"{u}' OR '1'='1"),
)
