"""The README's `make demo` job: owner -> KBS -> attested TA -> analyst, checked
against pandas."""

from teespark import demo


def test_demo_runs_the_whole_path_and_matches_pandas(capsys):
    assert demo.main(["--rows", "5000", "--rows-per-block", "300", "--seed", "3"]) == 0
    out = capsys.readouterr().out
    assert "TA attested (simulated evidence)" in out
    assert "TA sorted 5000 rows" in out
    assert "identical to pandas' sort" in out
