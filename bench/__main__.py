"""`python -m bench [--sizes 10000,100000] ...`: the fan-out benchmark; `python -m bench web
[--duration 20] ...`: the web benchmark; `python -m bench first-message [--publications 20]`:
from an approval to the first message; `python -m bench --departures [--intents 20000]
[--options 100]`: the assisted departure's allocation run alone; `python -m bench --console
[--size 100000] [--requests 60]`: the crisis console's page, timed; each on the database and
broker the environment names (see the Makefile's `bench` target)."""

import os
import sys

import django


def run() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "consular.settings")
    django.setup()
    # After setup: the benchmark's modules import the product's models.
    from bench import console, departures, fanout, first_message, web

    arguments = sys.argv[1:]
    try:
        if arguments[:1] == ["web"]:
            web.main(arguments[1:])
        elif "--console" in arguments:
            arguments.remove("--console")
            console.main(arguments)
        elif arguments[:1] == ["first-message"]:
            first_message.main(arguments[1:])
        elif "--departures" in arguments:
            arguments.remove("--departures")
            departures.main(arguments)
        else:
            fanout.main(arguments)
    except (fanout.BenchmarkError, web.BenchmarkError) as error:
        sys.exit(f"bench: {error}")


if __name__ == "__main__":
    run()
