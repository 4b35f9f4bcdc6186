"""Joins, oblivious (general many-to-many, PK-FK, semi/anti kernels) and
encrypted mode, against pandas merge on the rows' ids: inner, left outer,
left semi, left anti, a residual condition; NULL keys never match; no match
at all, every row matching, skew, empty sides, dummy rows."""
from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from operators_ctypes import (JOIN_INNER, JOIN_LEFT_ANTI, JOIN_LEFT_OUTER, JOIN_LEFT_SEMI,
                              Table, key_spec)
from optables import norm, norm_key, real_rows, tables

SETTINGS = settings(max_examples=50, deadline=None)
KEYS1 = ["k1"]
KEYS2 = ["k1", "k2"]


def ref_pairs(left: pd.DataFrame, right: pd.DataFrame, keys, residual=None):
    """(left id, right id) pairs of the SQL inner equi-join: NULL keys match
    nothing."""
    lf = left.dropna(subset=keys)
    rf = right.dropna(subset=keys)
    if not len(lf) or not len(rf):
        return []
    lf = lf.assign(**{k: lf[k].map(norm_key) for k in keys})
    rf = rf.assign(**{k: rf[k].map(norm_key) for k in keys})
    merged = lf.merge(rf, on=keys, suffixes=("_l", "_r"))
    pairs = []
    for _, r in merged.iterrows():
        if residual is None or residual(norm(r["v_l"]), norm(r["v_r"])):
            pairs.append((int(r["id_l"]), int(r["id_r"])))
    return pairs


def row_of(df: pd.DataFrame, prefix: str, i: int):
    return tuple(norm(df[f"{prefix}{c}"][i]) for c in ("k1", "k2", "v", "f", "id"))


def check_rows_intact(out: pd.DataFrame, m: int, left: pd.DataFrame, right: pd.DataFrame,
                      rnull=None):
    by_id_l = {int(r["id"]): tuple(norm(r[c]) for c in ("k1", "k2", "v", "f", "id"))
               for _, r in left.iterrows()}
    by_id_r = {int(r["id"]): tuple(norm(r[c]) for c in ("k1", "k2", "v", "f", "id"))
               for _, r in right.iterrows()}
    for i in range(m):
        assert row_of(out, "l_", i) == by_id_l[int(out["l_id"][i])]
        if rnull is None or not rnull[i]:
            assert row_of(out, "r_", i) == by_id_r[int(out["r_id"][i])]


def residual_v(lv, rv):
    """l.v < r.v (NULL -> false)."""
    return lv is not None and rv is not None and lv < rv


def residual_frame(pairs: pd.DataFrame):
    return [residual_v(norm(a), norm(b)) for a, b in zip(pairs["l_v"], pairs["r_v"])]


@SETTINGS
@given(tables(max_size=30), tables(max_size=30, id_base=1000), st.booleans(), st.booleans())
@pytest.mark.parametrize("mode", ["general", "fast"])
def test_inner_join_matches_pandas(ops, mode, lt, rt, two_keys, with_residual):
    (l, lr), (r, rr) = lt, rt
    keys = KEYS2 if two_keys else KEYS1
    specs = [key_spec(k) for k in keys]
    m, out, _ = ops.join(Table(l, lr), Table(r, rr), specs, specs, JOIN_INNER, mode,
                         residual=residual_frame if with_residual else None)
    want = ref_pairs(real_rows(l, lr), real_rows(r, rr), keys,
                     residual_v if with_residual else None)
    got = sorted(zip(out["l_id"][:m], out["r_id"][:m]))
    assert m == len(want) and got == sorted(want)
    check_rows_intact(out, m, l, r)


@SETTINGS
@given(tables(max_size=30), tables(max_size=30, id_base=1000), st.booleans())
@pytest.mark.parametrize("mode", ["general", "fast"])
def test_left_outer_join_matches_pandas(ops, mode, lt, rt, two_keys):
    (l, lr), (r, rr) = lt, rt
    keys = KEYS2 if two_keys else KEYS1
    specs = [key_spec(k) for k in keys]
    m, out, rnull = ops.join(Table(l, lr), Table(r, rr), specs, specs, JOIN_LEFT_OUTER, mode)
    lreal, rreal = real_rows(l, lr), real_rows(r, rr)
    pairs = ref_pairs(lreal, rreal, keys)
    matched = {a for a, _ in pairs}
    want = sorted([(a, b) for a, b in pairs] +
                  [(int(i), None) for i in lreal["id"] if int(i) not in matched])
    got = sorted((int(a), None if n else int(b)) for a, b, n in
                 zip(out["l_id"][:m], out["r_id"][:m], rnull))
    assert m == len(want) and got == want
    for i in range(m):
        if rnull[i]:   # the right part of an unmatched row is zero
            assert out["r_id"][i] == 0
    check_rows_intact(out, m, l, r, rnull)


@SETTINGS
@given(tables(max_size=30), tables(max_size=30, id_base=1000), st.booleans())
@pytest.mark.parametrize("mode", ["semi", "fast"])
@pytest.mark.parametrize("kind", [JOIN_LEFT_SEMI, JOIN_LEFT_ANTI])
def test_semi_and_anti_join_match_pandas(ops, mode, kind, lt, rt, two_keys):
    (l, lr), (r, rr) = lt, rt
    keys = KEYS2 if two_keys else KEYS1
    specs = [key_spec(k) for k in keys]
    m, out, _ = ops.join(Table(l, lr), Table(r, rr), specs, specs, kind, mode)
    lreal = real_rows(l, lr)
    matched = {a for a, _ in ref_pairs(lreal, real_rows(r, rr), keys)}
    ids = [int(i) for i in lreal["id"]]
    want = sorted(i for i in ids if (i in matched) == (kind == JOIN_LEFT_SEMI))
    assert m == len(want) and sorted(int(i) for i in out["id"][:m]) == want


@st.composite
def pk_fk_tables(draw):
    """A primary table with unique (possibly NULL) k1 and a foreign table
    whose k1 mostly references it."""
    n_pk = draw(st.integers(0, 20))
    pk_keys = draw(st.lists(st.integers(-30, 30), min_size=n_pk, max_size=n_pk, unique=True))
    pk = pd.DataFrame({"k1": [None if draw(st.integers(0, 9)) == 0 else k for k in pk_keys],
                       "k2": ["p"] * n_pk, "v": draw(st.lists(st.integers(-50, 50),
                                                              min_size=n_pk, max_size=n_pk)),
                       "f": [1.0] * n_pk, "id": list(range(1000, 1000 + n_pk))},
                      columns=["k1", "k2", "v", "f", "id"]).astype(object)
    fk, fk_real = draw(tables(max_size=40))
    refs = pk_keys + [99, None]
    fk["k1"] = [draw(st.sampled_from(refs)) for _ in range(len(fk))]
    pk_real = draw(st.one_of(st.none(), st.lists(st.booleans(), min_size=n_pk,
                                                 max_size=n_pk)))
    return (pk, pk_real), (fk, fk_real)


@SETTINGS
@given(pk_fk_tables(), st.booleans())
@pytest.mark.parametrize("pk_side", ["pkfk_right", "pkfk_left"])
def test_pkfk_inner_join_matches_pandas(ops, pk_side, tabs, with_residual):
    (pk, pkr), (fk, fkr) = tabs
    spec = [key_spec("k1")]
    if pk_side == "pkfk_right":
        left, lr, right, rr = fk, fkr, pk, pkr
    else:
        left, lr, right, rr = pk, pkr, fk, fkr
    m, out, _ = ops.join(Table(left, lr), Table(right, rr), spec, spec, JOIN_INNER, pk_side,
                         residual=residual_frame if with_residual else None)
    want = ref_pairs(real_rows(left, lr), real_rows(right, rr), ["k1"],
                     residual_v if with_residual else None)
    assert m == len(want) and sorted(zip(out["l_id"][:m], out["r_id"][:m])) == sorted(want)
    check_rows_intact(out, m, left, right)


@SETTINGS
@given(pk_fk_tables(), st.booleans())
def test_pkfk_left_outer_one_row_per_foreign_row(ops, tabs, with_residual):
    (pk, pkr), (fk, fkr) = tabs
    spec = [key_spec("k1")]
    m, out, rnull = ops.join(Table(fk, fkr), Table(pk, pkr), spec, spec, JOIN_LEFT_OUTER,
                             "pkfk_right", residual=residual_frame if with_residual else None)
    fk_real = real_rows(fk, fkr)
    pairs = dict(ref_pairs(fk_real, real_rows(pk, pkr), ["k1"],
                           residual_v if with_residual else None))
    want = sorted((int(i), pairs.get(int(i))) for i in fk_real["id"])
    got = sorted((int(a), None if n else int(b)) for a, b, n in
                 zip(out["l_id"][:m], out["r_id"][:m], rnull))
    assert m == len(fk_real) and got == want


def frame(keys, base):
    return pd.DataFrame({"k1": keys, "k2": ["a"] * len(keys), "v": list(range(len(keys))),
                         "f": [0.0] * len(keys), "id": list(range(base, base + len(keys)))},
                        columns=["k1", "k2", "v", "f", "id"]).astype(object)


@pytest.mark.parametrize("mode", ["general", "fast"])
def test_join_no_match_every_match_and_empty(ops, mode):
    spec = [key_spec("k1")]
    left, right = frame([1, 2, 3, None], 0), frame([4, 5, None], 100)
    m, _, _ = ops.join(Table(left), Table(right), spec, spec, JOIN_INNER, mode)
    assert m == 0                                   # no match (NULL = NULL is not a match)
    left, right = frame([7] * 6, 0), frame([7] * 5, 100)
    m, out, _ = ops.join(Table(left), Table(right), spec, spec, JOIN_INNER, mode)
    assert m == 30 and len(set(zip(out["l_id"], out["r_id"]))) == 30   # every row matches
    m, _, _ = ops.join(Table(left.iloc[:0]), Table(right), spec, spec, JOIN_INNER, mode)
    assert m == 0
    m, out, rnull = ops.join(Table(left), Table(right.iloc[:0]), spec, spec, JOIN_LEFT_OUTER,
                             mode)
    assert m == 6 and rnull == [1] * 6


def test_join_skewed_key(ops):
    spec = [key_spec("k1")]
    left = frame([1] * 90 + list(range(2, 12)), 0)
    right = frame([1] * 3 + list(range(5, 40)), 1000)
    m1, out1, _ = ops.join(Table(left), Table(right), spec, spec, JOIN_INNER, "general")
    m2, out2, _ = ops.join(Table(left), Table(right), spec, spec, JOIN_INNER, "fast")
    assert m1 == m2 == 90 * 3 + 7
    assert sorted(zip(out1["l_id"], out1["r_id"])) == sorted(zip(out2["l_id"], out2["r_id"]))
