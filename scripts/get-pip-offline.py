"""Stand-in for the get-pip.py that ansible-test downloads from
ci-files.testing.ansible.com, which is not reachable here.

ansible-test runs this file in a fresh venv made without pip, with pip's
command-line options and the packages it wants (pip==<its version>). The
interpreter's own ensurepip wheel installs a first pip, which then installs
what was asked for from the configured index (PyPI).
"""
import ensurepip
import os
import subprocess
import sys

# get-pip's own switches; pip install does not know them.
args = [a for a in sys.argv[1:] if a not in ('--no-setuptools', '--no-wheel')]
ensurepip.bootstrap()
# ensurepip points PIP_CONFIG_FILE at /dev/null in this process; the real
# install must see the machine's pip configuration (index, CA bundle).
env = dict(os.environ)
env.pop('PIP_CONFIG_FILE', None)
sys.exit(subprocess.call([sys.executable, '-m', 'pip', 'install'] + args, env=env))
