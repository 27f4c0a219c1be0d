"""Words for people: shared by the pages and the command line."""


def counted(count: int, noun: str, plural: str | None = None) -> str:
    """``count`` with ``noun`` in the right number: "1 agent", "3 agents"
    (``plural`` for irregular ones: ``counted(2, "university",
    "universities")``)."""
    return f"{count} {noun if count == 1 else plural or noun + 's'}"


def counted_plural(count: int, plural: str) -> str:
    """``count`` with a noun given in the plural, as counts keyed by their
    plural are: "1 curriculum path", "3 curriculum paths", "1 match"."""
    if count == 1:
        singular = plural[:-2] if plural.endswith(("ches", "shes")) else plural[:-1]
        return f"1 {singular}"
    return f"{count} {plural}"


def in_words(code: str) -> str:
    """A stored code as a person reads it: "head_to_head" -> "head to head".

    Statuses and types are stored, filtered on and exported as codes; the
    screen shows them in words (and ``None`` stays ``None``)."""
    return code.replace("_", " ") if isinstance(code, str) else code
