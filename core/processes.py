"""Processes of this machine: is one still alive.

Ground-level because the database layer needs it too (runs left ``running`` by a crawl process
that is gone are closed at the next start, see ``storage.repository``).
"""

from __future__ import annotations


def process_alive(pid: int) -> bool:
    """Whether ``pid`` is a live process of this machine. A zombie (exited, not yet reaped)
    counts as gone; a process of another user (no permission to inspect it) as alive."""
    import psutil  # here: every crawl process imports this module, few ever call it

    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False
    except psutil.AccessDenied:
        return True
