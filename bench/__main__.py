"""`python -m bench [--sizes 10000,100000] ...`: the fan-out benchmark, on the database and
broker the environment names (see the Makefile's `bench` target). `python -m bench
--departures [--intents 20000] [--options 100]`: the assisted departure's allocation run
alone."""

import os
import sys

import django


def run() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "consular.settings")
    django.setup()
    # After setup: the benchmark's modules import the product's models.
    from bench.fanout import BenchmarkError, main

    argv = sys.argv[1:]
    if "--departures" in argv:
        from bench.departures import main

        argv.remove("--departures")
    try:
        main(argv)
    except BenchmarkError as error:
        sys.exit(f"bench: {error}")


if __name__ == "__main__":
    run()
