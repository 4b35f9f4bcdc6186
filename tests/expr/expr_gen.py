"""Hypothesis strategies for the evaluator-vs-Spark tests: a fixed table
schema, random rows (with NULLs and edge values) and random typed
expressions over it, restricted to what both Spark and the TA define
identically (docs/EXPRESSIONS.md lists the documented differences, which the
generator avoids: float %, float -> decimal casts or round() on floats in
the range where Spark's shortest-decimal conversion matters)."""
from __future__ import annotations

import decimal

from hypothesis import strategies as st
from teespark.format.schema import Schema
from teespark.ir import expr as ex
from teespark.ir.expr import col, lit

SCHEMA_SPEC = ("i1:int32, i2:int32, l1:int64, l2:int64, f1:float64, f2:float64, "
               "d1:decimal(9,2), d2:decimal(18,4), d3:decimal(5,0), s1:string(8), "
               "s2:string(6), dt1:date, dt2:date, ts1:timestamp, b1:bool, b2:bool")
SCHEMA = Schema.from_spec(SCHEMA_SPEC)

COLS = {
    "int32": ["i1", "i2"], "int64": ["l1", "l2"], "float64": ["f1", "f2"],
    "decimal": ["d1", "d2", "d3"], "string": ["s1", "s2"], "date": ["dt1", "dt2"],
    "timestamp": ["ts1"], "bool": ["b1", "b2"],
}

ALPHABET = "ab%_\\'é€😀x"

# --- values ---------------------------------------------------------------

i32 = st.one_of(st.sampled_from([0, 1, -1, 2, 7, -7, 100, 2**31 - 1, -2**31]),
                st.integers(-2**31, 2**31 - 1), st.integers(-1000, 1000))
i64 = st.one_of(st.sampled_from([0, 1, -1, 3, 2**63 - 1, -2**63, 2**31]),
                st.integers(-2**63, 2**63 - 1), st.integers(-10**6, 10**6))
f64 = st.one_of(
    st.sampled_from([0.0, -0.0, 1.0, -1.0, 0.5, 2.5, -2.5, 1.005, 2.675, 0.125,
                     float("nan"), float("inf"), float("-inf"), 5e-324, 1e300, -1e-300]),
    st.integers(-10**8, 10**8).map(lambda k: k / 100),
    st.floats(-1e9, 1e9, allow_nan=False),
)


def dec(p: int, s: int):
    lim = 10 ** p - 1
    return st.one_of(st.sampled_from([0, 1, -1, lim, -lim]), st.integers(-lim, lim)) \
        .map(lambda u: decimal.Decimal(u).scaleb(-s))


def text(width: int):
    return st.text(alphabet=ALPHABET, max_size=width).filter(
        lambda s: len(s.encode("utf-8")) <= width)


days = st.one_of(st.sampled_from([0, -1, 59, 60, 365, -719162, 2932896, 11016, -141427]),
                 st.integers(-800_000, 3_000_000))
micros = st.one_of(st.sampled_from([0, -1, 1, 86_400_000_000, -86_400_000_001]),
                   st.integers(-10**17, 10**17))

COL_VALUES = {
    "i1": i32, "i2": i32, "l1": i64, "l2": i64, "f1": f64, "f2": f64,
    "d1": dec(9, 2), "d2": dec(18, 4), "d3": dec(5, 0), "s1": text(8), "s2": text(6),
    "dt1": days, "dt2": days, "ts1": micros, "b1": st.booleans(), "b2": st.booleans(),
}


def nullable(s, p=0.15):
    return st.one_of(st.none(), s) if p else s


@st.composite
def rows(draw, min_rows=1, max_rows=12):
    n = draw(st.integers(min_rows, max_rows))
    out = []
    for _ in range(n):
        out.append(tuple(draw(st.one_of(st.just(None), COL_VALUES[c.name],
                                        COL_VALUES[c.name]))
                         for c in SCHEMA.layout()))
    return out


# --- literals ----------------------------------------------------------------

def lit_of(kind: str):
    if kind == "int32":
        return st.one_of(st.integers(-100, 100), i32).map(lambda v: lit(v, "int32"))
    if kind == "int64":
        return i64.map(lambda v: lit(v, "int64"))
    if kind == "float64":
        return st.sampled_from([0.0, 1.0, -2.5, 0.1, 3.75, 100.0, 1e-3, -7.0]) \
            .map(lambda v: lit(v))
    if kind == "decimal":
        return st.sampled_from(["1.50", "-0.05", "100", "0.001", "12345.6789", "7", "-3.3"]) \
            .map(lambda v: lit(decimal.Decimal(v)))
    if kind == "string":
        return text(5).map(lambda v: lit(v) if v else lit("a"))
    if kind == "date":
        return days.map(lambda d: lit(d, "date"))
    if kind == "timestamp":
        return micros.map(lambda us: lit(us, "timestamp"))
    return st.booleans().map(lambda b: lit(b))


# --- expressions ---------------------------------------------------------------

NUMERIC = ["int32", "int64", "float64", "decimal"]


def leaf(kind: str):
    choices = [st.sampled_from(COLS[kind]).map(col), lit_of(kind)]
    return st.one_of(*choices, st.sampled_from(COLS[kind]).map(col))


def expr_of(kind: str, depth: int):
    """A strategy for expressions whose value kind is `kind`."""
    if depth <= 0:
        return leaf(kind)
    sub = lambda k: expr_of(k, depth - 1)
    opts = [leaf(kind)]
    if kind in ("int32", "int64"):
        opts += [
            st.tuples(sub(kind), sub(kind), st.sampled_from(["+", "-", "*", "%"])).map(
                lambda t: {"+": t[0] + t[1], "-": t[0] - t[1], "*": t[0] * t[1],
                           "%": t[0] % t[1]}[t[2]]),
            sub(kind).map(lambda a: -a), sub(kind).map(ex.abs),
            st.tuples(sub(kind), st.integers(-3, 1)).map(lambda t: ex.round(t[0], t[1])),
            st.tuples(sub(kind), st.sampled_from(["float64", "decimal", "int32", "int64",
                                                  "bool"])).flatmap(
                lambda t: sub(t[1]).map(lambda a: a.cast(kind))),
            _case(kind, depth), _coalesce(kind, depth),
        ]
        if kind == "int32":
            opts += [sub("date").map(ex.year), sub("date").map(ex.month),
                     sub("date").map(ex.dayofmonth), sub("timestamp").map(ex.year),
                     st.tuples(sub("date"), sub("date")).map(lambda t: ex.datediff(*t))]
        else:
            opts += [st.tuples(sub("int64"), sub("int32")).map(lambda t: t[0].div(t[1])),
                     st.tuples(sub("decimal"), sub("decimal")).map(lambda t: t[0].div(t[1]))]
    elif kind == "float64":
        opts += [
            st.tuples(sub("float64"), sub("float64"), st.sampled_from("+-*/")).map(
                lambda t: {"+": t[0] + t[1], "-": t[0] - t[1], "*": t[0] * t[1],
                           "/": t[0] / t[1]}[t[2]]),
            st.tuples(sub("int32"), sub("int64")).map(lambda t: t[0] / t[1]),
            st.tuples(sub("decimal"), sub("float64")).map(lambda t: t[0] * t[1]),
            sub("float64").map(lambda a: -a), sub("float64").map(ex.abs),
            st.tuples(sub("float64"), st.integers(0, 4)).map(
                lambda t: ex.round(t[0].cast("decimal(12,4)").cast("float64"), t[1])),
            st.sampled_from(["int32", "int64", "decimal", "bool"]).flatmap(
                lambda k: sub(k).map(lambda a: a.cast("float64"))),
            _case(kind, depth), _coalesce(kind, depth),
        ]
    elif kind == "decimal":
        opts += [
            st.tuples(sub("decimal"), sub(st_dec_or_int()), st.sampled_from("+-*/%")).map(
                lambda t: {"+": t[0] + t[1], "-": t[0] - t[1], "*": t[0] * t[1],
                           "/": t[0] / t[1], "%": t[0] % t[1]}[t[2]]),
            sub("decimal").map(lambda a: -a), sub("decimal").map(ex.abs),
            st.tuples(sub("decimal"), st.integers(-3, 5)).map(lambda t: ex.round(t[0], t[1])),
            st.tuples(st.sampled_from(["int32", "int64", "decimal"]),
                      st.integers(1, 38)).flatmap(
                lambda t: st.tuples(sub(t[0]), st.integers(0, t[1])).map(
                    lambda u: u[0].cast(f"decimal({t[1]},{u[1]})"))),
            st.tuples(sub("float64"), st.integers(1, 10), st.integers(0, 4)).map(
                lambda t: t[0].cast(f"decimal({t[1] + t[2]},{t[2]})")),
            _case(kind, depth), _coalesce(kind, depth),
        ]
    elif kind == "bool":
        opts += [
            st.tuples(st.sampled_from(["int32", "int64", "float64", "decimal", "string",
                                       "date", "timestamp", "bool", "mixed"]),
                      st.sampled_from(["eq", "eq_ns", "lt", "le", "gt", "ge", "ne"]),
                      ).flatmap(lambda t: _compare(t[0], t[1], depth)),
            st.tuples(sub("bool"), sub("bool"), st.sampled_from("&|")).map(
                lambda t: (t[0] & t[1]) if t[2] == "&" else (t[0] | t[1])),
            sub("bool").map(lambda a: ~a),
            st.sampled_from(list(COLS)).flatmap(lambda k: sub(k)).map(lambda a: a.is_null()),
            st.sampled_from(list(COLS)).flatmap(lambda k: sub(k)).map(
                lambda a: a.is_not_null()),
            st.sampled_from(["int32", "int64", "decimal", "string", "date", "float64"])
            .flatmap(lambda k: st.tuples(sub(k), st.lists(st.one_of(st.none(), lit_of(k)),
                                                           min_size=1, max_size=4)))
            .map(lambda t: t[0].isin(*[x if x is not None else None for x in t[1]])),
            st.sampled_from(["int32", "decimal", "date"]).flatmap(
                lambda k: st.tuples(sub(k), lit_of(k), lit_of(k))).map(
                lambda t: t[0].between(t[1], t[2])),
            st.tuples(sub("string"), st.text(alphabet="ab%_é\\x", max_size=5)).map(
                lambda t: t[0].like(_fix_escapes(t[1]))),
            st.tuples(sub("string"), text(3), st.sampled_from(
                ["startswith", "endswith", "contains"])).map(
                lambda t: getattr(t[0], t[2])(t[1])),
            st.sampled_from(["int32", "int64", "float64", "decimal"]).flatmap(
                lambda k: sub(k).map(lambda a: a.cast("bool"))),
            _case(kind, depth), _coalesce(kind, depth),
        ]
    elif kind == "string":
        opts += [
            st.tuples(sub("string"), st.integers(-6, 6),
                      st.one_of(st.none(), st.integers(-2, 8))).map(
                lambda t: t[0].substr(t[1], t[2])),
            _case(kind, depth), _coalesce(kind, depth),
        ]
    elif kind == "date":
        opts += [
            st.tuples(sub("date"), sub("int32").map(lambda a: a % 100000)).map(
                lambda t: ex.date_add(*t)),
            st.tuples(sub("date"), sub("int32").map(lambda a: a % 100000)).map(
                lambda t: ex.date_sub(*t)),
            sub("timestamp").map(lambda a: a.cast("date")),
            _case(kind, depth), _coalesce(kind, depth),
        ]
    elif kind == "timestamp":
        opts += [sub("date").map(lambda a: a.cast("timestamp")),
                 _case(kind, depth), _coalesce(kind, depth)]
    return st.one_of(*opts)


def st_dec_or_int():
    return "decimal"


def _fix_escapes(p: str) -> str:
    """Make a random pattern legal for Spark: a backslash must escape
    '_', '%' or itself (a lone backslash becomes an escaped backslash)."""
    out, i = [], 0
    while i < len(p):
        nxt = p[i + 1] if i + 1 < len(p) else ""
        if p[i] == "\\" and nxt != "" and nxt in "_%\\":
            out.append("\\" + nxt)
            i += 2
        elif p[i] == "\\":
            out.append("\\\\")
            i += 1
        else:
            out.append(p[i])
            i += 1
    return "".join(out)


def _compare(kind: str, op: str, depth: int):
    if kind == "mixed":
        pair = st.sampled_from([("int32", "int64"), ("int32", "decimal"),
                                ("int64", "decimal"), ("decimal", "float64"),
                                ("int32", "float64"), ("date", "timestamp")])
        ab = pair.flatmap(lambda p: st.tuples(expr_of(p[0], depth - 1),
                                              expr_of(p[1], depth - 1)))
    else:
        ab = st.tuples(expr_of(kind, depth - 1), expr_of(kind, depth - 1))

    def mk(t):
        a, b = t
        return {"eq": a == b, "ne": a != b, "lt": a < b, "le": a <= b, "gt": a > b,
                "ge": a >= b, "eq_ns": a.eq_null_safe(b)}[op]
    return ab.map(mk)


def _case(kind: str, depth: int):
    def build(t):
        branches, other = t
        b = ex.when(branches[0][0], branches[0][1])
        for c, v in branches[1:]:
            b = b.when(c, v)
        return b.otherwise(other) if other is not None else b.end()
    return st.tuples(
        st.lists(st.tuples(expr_of("bool", depth - 1), expr_of(kind, depth - 1)),
                 min_size=1, max_size=3),
        st.one_of(st.none(), expr_of(kind, depth - 1))).map(build)


def _coalesce(kind: str, depth: int):
    return st.lists(expr_of(kind, depth - 1), min_size=1, max_size=3).map(
        lambda xs: ex.coalesce(*xs))


any_expr = st.sampled_from(list(COLS)).flatmap(lambda k: expr_of(k, 2))
