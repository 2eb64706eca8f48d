"""``manage.py`` of the worker tests' subprocesses, on the test database file of the test.

Environment: ``ES_DJANGO_DATABASE`` (the SQLite file), plus what `worker_helpers` reads.
"""

import os
import sys

import es_django_settings
from django.conf import settings
from django.core.management import execute_from_command_line

es_django_settings.configure()
settings.DATABASES["default"]["NAME"] = os.environ["ES_DJANGO_DATABASE"]
execute_from_command_line(["manage.py", *sys.argv[1:]])
