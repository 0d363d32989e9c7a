"""Test-session setup: the browser test needs Debian's chromium and chromedriver."""
import os, shutil, subprocess, sys


def pytest_sessionstart(session):
    if shutil.which('chromium') and shutil.which('chromedriver'): return
    if os.geteuid() == 0 and shutil.which('apt-get'):
        print('installing Debian chromium + chromium-driver for the browser test', file=sys.stderr)
        subprocess.run(['apt-get', 'update', '-qq'], check=False)
        subprocess.run(['apt-get', 'install', '-y', '-qq', 'chromium', 'chromium-driver'], check=False,
                       env={**os.environ, 'DEBIAN_FRONTEND': 'noninteractive'})
