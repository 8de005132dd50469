"""bench/run_all.py --repeat: which run is kept and what is said of the others."""

from bench.run_all import median_run


def ingest_run(ratio: float, code: int = 0) -> tuple[int, dict, str]:
    return code, {"ratio": ratio}, f"ratio {ratio}"


def realtime_run(p99: float) -> tuple[int, dict, str]:
    return 0, {"all": {"p99_ms": p99}}, f"p99 {p99}"


def test_one_run_is_kept_as_it_is():
    run = ingest_run(0.5)
    assert median_run("ingest", [run]) == (run, "")


def test_the_median_run_is_kept_and_every_figure_listed_worst_first():
    runs = [ingest_run(0.58), ingest_run(0.44), ingest_run(0.51)]
    kept, said = median_run("ingest", runs)
    assert kept == runs[2]
    assert said == "median of 3 runs (figures worst first: 0.44, 0.51, 0.58); this is run 3, the median one"


def test_of_an_even_count_the_worse_middle_run_is_kept():
    ratios = median_run("ingest", [ingest_run(0.50), ingest_run(0.60), ingest_run(0.40), ingest_run(0.55)])
    assert ratios[0][1]["ratio"] == 0.50
    latencies = median_run("realtime", [realtime_run(30.0), realtime_run(40.0), realtime_run(20.0), realtime_run(35.0)])
    assert latencies[0][1]["all"]["p99_ms"] == 35.0  # lower is better: the higher middle latency


def test_a_failed_run_is_shown_rather_than_hidden_by_the_median():
    failed = (1, None, "uvicorn exited")
    kept, said = median_run("ingest", [ingest_run(0.5), failed, ingest_run(0.6)])
    assert kept == failed
    assert said == "1 of 3 runs failed; this is the first that did"
