"""``python -m tests.k8s_emulator serve --port N --kubeconfig PATH`` (or ``python -m k8s_emulator``)."""

import sys

from .server import main

sys.exit(main())
