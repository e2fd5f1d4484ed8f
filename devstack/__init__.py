"""Local development stack: everything ``make run`` and ``make test`` need on a bare machine.

The product needs PostgreSQL and a Temporal server. On a developer machine neither may be
installed, and there may be no Docker engine and no internet beyond package registries, so this
package provides them locally:

* :mod:`devstack.temporal_cli` finds the Temporal CLI (which contains the dev server), or builds
  it once with the Go toolchain.
* :mod:`devstack.temporal_server` builds the ``temporal server start-dev`` command line and waits
  until a server answers.
* :mod:`devstack.postgres` starts an embedded real PostgreSQL (the ``pgserver`` package) unless
  ``DATABASE_URL`` points at one already.
* :mod:`devstack.processes` starts the stack's child processes, copies their output and stops
  them by process group.
* :mod:`devstack.run` wires it all together with the worker and the API (``python -m devstack
  run``).

Nothing here is used in production; the Docker image and ``docker-compose.yml`` do not need it.
"""
