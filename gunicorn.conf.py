"""gunicorn's settings for the web process, read from the working directory (`gunicorn
consular.wsgi` in the checkout; arguments on the command line override them).

One thread a worker, and a worker a core and one more. A request now waits on nothing slow:
a registration's verification email is stored due with its row rather than confirmed by the
broker (registrations/verification_emails.py), so what is left is PostgreSQL's commit and two
Redis round trips, about a millisecond. Threads then only share a process's interpreter lock:
on the 2-core build machine, 2 workers of 8 threads took about as many registrations as 2 of
one, with a 99th percentile two to three times as long (the lock is handed over unfairly), and
the cached public pages answered more slowly at 64 connections (docs/performance.md). The
worker beyond the cores computes while another waits on PostgreSQL or Redis. gthread keeps
connections alive (a sync worker closes each one), and `reuse_port` gives each worker a
listening socket of its own, among which the kernel spreads new connections: on one shared
socket, a worker of one thread could take most of a client's kept-alive connections and leave
a core idle. `WEB_CONCURRENCY` workers; raise `WEB_THREADS` where requests wait on something
slow. Each thread keeps its own database connection (`DATABASE_CONN_MAX_AGE`): workers times
threads connections per machine.
"""

import os

workers = int(os.environ.get("WEB_CONCURRENCY", str((os.cpu_count() or 1) + 1)))
threads = int(os.environ.get("WEB_THREADS", "1"))
worker_class = "gthread"
reuse_port = True
