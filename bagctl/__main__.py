"""``python -m bagctl``: the ``bagctl`` command (``bagctl up --detach`` starts itself so)."""

from .cli import main

main()
