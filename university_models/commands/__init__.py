"""Command modules of the CLI; see ``university_models.cli``."""
