"""The README's `make demo` job: seal, sort inside the TA, open, compare with numpy."""

from teespark import demo


def test_demo_sorts_like_numpy(capsys):
    assert demo.main(["--rows", "5000", "--rows-per-block", "300", "--seed", "3"]) == 0
    out = capsys.readouterr().out
    assert "identical to numpy's sort" in out
    assert "TA sorted 5000 rows" in out
