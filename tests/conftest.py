"""Test-session setup: what the tests need beyond Python, checked up front with one line each.

Java runs pycocoevalcap's tokenizer and METEOR; the browser tests drive Debian's chromium and
chromedriver (installed here with apt-get when missing and the tests run as root)."""
import os, shutil, subprocess, sys

import pytest


def _chromium() -> bool: return bool(shutil.which('chromium') and shutil.which('chromedriver'))


def pytest_sessionstart(session):
    if not shutil.which('java'):
        pytest.exit('the tests need Java (pycocoevalcap runs its tokenizer and METEOR in it): '
                    'install a JRE, e.g. apt-get install default-jre-headless', returncode=1)
    if _chromium(): return
    if os.geteuid() == 0 and shutil.which('apt-get'):
        print('installing Debian chromium + chromium-driver for the browser test', file=sys.stderr)
        subprocess.run(['apt-get', 'update', '-qq'], check=False)
        subprocess.run(['apt-get', 'install', '-y', '-qq', 'chromium', 'chromium-driver'], check=False,
                       env={**os.environ, 'DEBIAN_FRONTEND': 'noninteractive'})
    if not _chromium():
        pytest.exit('the browser tests need chromium and chromedriver: apt-get install chromium chromium-driver '
                    '(Debian; run the tests as root to have them installed for you)', returncode=1)
