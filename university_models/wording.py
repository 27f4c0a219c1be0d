"""Words for people: shared by the pages and the command line."""


def counted(count: int, noun: str, plural: str | None = None) -> str:
    """``count`` with ``noun`` in the right number: "1 agent", "3 agents"
    (``plural`` for irregular ones: ``counted(2, "university",
    "universities")``)."""
    return f"{count} {noun if count == 1 else plural or noun + 's'}"
