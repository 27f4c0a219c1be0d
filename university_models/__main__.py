import sys

from university_models.cli import main

sys.exit(main())
