"""``python -m skloss``: the demo (see :mod:`skloss._demo`).

``python -m skloss`` runs every section; ``python -m skloss section_losses``
runs only the named sections.
"""

import sys

from skloss._demo import main

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:] or None))
