"""Small console helpers shared by the ``python -m skloss`` demo sections."""

__all__ = ["heading"]


def heading(title):
    """Print ``title`` underlined, after a blank line."""
    print()
    print(title)
    print("=" * len(title))
