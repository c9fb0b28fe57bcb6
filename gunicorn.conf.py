"""gunicorn's settings for the web process, read from the working directory (`gunicorn
consular.wsgi` in the checkout; arguments on the command line override them).

Threads: a registration spends most of its time waiting, not computing: for PostgreSQL to
flush its commit and for RabbitMQ to confirm the verification email's message (each an fsync,
4 to 6 ms on the build machine). A worker of one thread waits through each; with several, the
other requests compute meanwhile and the waits overlap (PostgreSQL and RabbitMQ then flush
many commits and messages at once). Each thread keeps its own database connection
(`DATABASE_CONN_MAX_AGE`): workers times threads connections per machine.
"""

import os

workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
threads = int(os.environ.get("WEB_THREADS", "8"))
worker_class = "gthread"
