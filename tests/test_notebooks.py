"""Runs every notebook in nbs/ through nbdev's test runner, one pytest test per notebook.

The tests themselves live in the notebooks' cells. Cells flagged `#| slow` (the real Flickr8k
corpus) run too: this is the command CI uses. Set IMGCAP_SKIP_SLOW=1 for a quick local loop.
"""
import os
from pathlib import Path
import pytest

NBS = Path(__file__).resolve().parent.parent / 'nbs'
NOTEBOOKS = sorted(p for p in NBS.glob('*.ipynb') if not p.name.startswith('_'))


def test_notebooks_were_found():
    assert len(NOTEBOOKS) >= 5, f'expected the numbered notebooks in {NBS}, found {len(NOTEBOOKS)}'


@pytest.mark.parametrize('nb', NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook(nb):
    from nbdev.test import test_nb
    skip = ['slow'] if os.environ.get('IMGCAP_SKIP_SLOW') else []
    ok, secs = test_nb(nb, skip_flags=skip, force_flags=[], do_print=False, basepath=NBS.parent)
    assert ok, f'{nb.name} failed (see the traceback above)'
