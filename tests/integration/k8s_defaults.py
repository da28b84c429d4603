"""What the collection's emulator fixtures run with unless a test says
otherwise: deleted pods stay Terminating for a while, as on a cluster, so a
procedure that goes on before its pods are gone (a restore after stopping
the writers) is caught (issue 12 item 4)."""

import os

# Seconds a deleted pod stays Terminating (the emulator's own default is 0);
# QUICKBITE_K8S_TERMINATE_DELAY overrides it (e.g. 0 to compare timings).
TERMINATE_DELAY = float(os.environ.get('QUICKBITE_K8S_TERMINATE_DELAY', '0.3'))
