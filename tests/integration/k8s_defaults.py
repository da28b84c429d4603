"""What the collection's emulator fixtures run with unless a test says
otherwise: deleted pods stay Terminating for a while, as on a cluster, so a
procedure that goes on before its pods are gone (a restore after stopping
the writers) is caught (issue 12 item 4)."""

# Seconds a deleted pod stays Terminating (the emulator's own default is 0).
TERMINATE_DELAY = 0.3
