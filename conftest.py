# Lets pytest import the checkout as ansible_collections.quickbite.ops (through
# the .collections symlink) and the Kubernetes emulator as k8s_emulator.
import os
import sys

ROOT = os.path.dirname(os.path.abspath(__file__))
for path in (os.path.join(ROOT, '.collections'), os.path.join(ROOT, 'tests')):
    if path not in sys.path:
        sys.path.insert(0, path)
