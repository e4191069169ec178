import sys

from commerce_hub.embedded.cli import main

sys.exit(main())
