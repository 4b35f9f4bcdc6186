"""A nullable join key joined to a NOT NULL one (a nullable foreign key
against a NOT NULL primary key is the everyday case): both key encodings
must agree, in-heap (RUN_OPERATOR, both modes, general and PK-FK) and on
the larger-than-heap path. Checked against pandas (NULL never matches)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from exec_helpers import SCHEMA_A, same_rows, table_a
from teespark.exec import Join, LocalDriver, Scan
from teespark.format.schema import Schema

SCHEMA_NN = Schema.from_spec("rid:int64 not null, rk:int32 not null, w:int64")


@pytest.mark.parametrize("large", ["never", "always"])
@pytest.mark.parametrize("pk", [False, True])
@pytest.mark.parametrize("mode", ["oblivious", "encrypted"])
def test_nullable_key_joins_not_null_key(ta, large, pk, mode) -> None:  # type: ignore[no-untyped-def]
    drv = LocalDriver(ta, mode=mode, rows_per_block=16, large=large)
    a = table_a(80, 3, keys=8)                        # k: nullable int32
    rk = np.arange(8, dtype=np.int32) if pk else np.array([1, 1, 2, 3, 4, 5, 6, 6], np.int32)
    b = pd.DataFrame({"rid": np.arange(8, dtype=np.int64), "rk": rk,
                      "w": np.arange(8, dtype=np.int64)})
    sa = Scan(drv.load(a, SCHEMA_A, slot=0, key=bytes(32)))
    sb = Scan(drv.load(b, SCHEMA_NN, slot=1, key=bytes(range(32))))
    nn = a.dropna(subset=["k"])
    # nullable side on the left, then on the right
    got = drv.collect(Join(sa, sb, "inner", [("k", "rk")], pk_side="right" if pk else None))
    same_rows(got, nn.merge(b, left_on="k", right_on="rk"))
    pk_left = "left" if pk and large == "always" else None   # in-heap: no PK-left outer
    got = drv.collect(Join(sb, sa, "inner", [("rk", "k")], pk_side=pk_left))
    same_rows(got, b.merge(nn, left_on="rk", right_on="k"))
    got = drv.collect(Join(sa, sb, "left_semi", [("k", "rk")]))
    same_rows(got, a[a.k.isin(set(rk.tolist())).fillna(False).astype(bool)])
