# Not part of the kit's tests (testpaths = tests): the benchmark runs it explicitly to
# measure a spawned child's start cost from inside a pytest process with dojo loaded.
import os


def test_measure_spawn_under_the_kit():
    from bench.spawn_cost import measure

    with open(os.environ["DOJO_BENCH_OUT"], "w") as out:
        out.write(f"{measure():.4f}")
