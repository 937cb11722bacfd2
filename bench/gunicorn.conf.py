"""One gunicorn configuration for La Malle and for the floor: two sync workers, as in the issue."""

workers = 2
worker_class = "sync"
# The slowest feeds take seconds at scale 1: a worker must not be killed in the middle.
timeout = 120
accesslog = None
loglevel = "warning"
