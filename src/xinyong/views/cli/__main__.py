"""``python -m xinyong.views.cli``: the ``xinyong`` command."""

from __future__ import annotations

from xinyong.views.cli import app

if __name__ == "__main__":  # pragma: no cover
    app()
