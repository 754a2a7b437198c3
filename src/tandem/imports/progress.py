"""Progress reporting of imports: the project-wide interface in :mod:`tandem.core.progress`."""

from tandem.core.progress import NoProgress, Progress

__all__ = ["NoProgress", "Progress"]
