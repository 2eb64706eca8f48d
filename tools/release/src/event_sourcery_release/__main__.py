import sys

from event_sourcery_release._cli import main

sys.exit(main())
