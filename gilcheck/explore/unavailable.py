"""Searches this run cannot start: the reasons, apart from the searches themselves (so that
the command line can name them without loading the searches)."""


class ParallelUnavailable(Exception):
    """This platform cannot fork worker processes."""


class RayUnavailable(Exception):
    """Ray is not installed, or the cluster cannot be reached."""


class FingerprintsUnavailable(Exception):
    """`--fingerprint` cannot run here: no C extension, or a spec it does not apply to."""
