"""The service layer: every rule of the domain, one module per subject.

Each function takes a ``Session`` and never commits: the caller runs one user
action as one transaction (``university_models.db.transaction``).
"""
