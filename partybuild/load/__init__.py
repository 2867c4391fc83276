"""The load test (``make load``): who the simulated users are (``setup``), what they do
(``locustfile``), and the run that starts the stack, drives it and checks the ledger
afterwards (``run``, as ``manage.py load_run``)."""
