"""How well each caption score agrees with people: Kendall tau on Flickr8k-Expert and Flickr8k-CF.

Scores the judged image-caption pairs (all test photos) with this project's reference-based metrics
(BLEU-4, METEOR, CIDEr: `imgcap.evaluate.reference_scorer`) and with the model's reference-free
scores (`imgcap.confidence.rate_scorer`: the rate, the log-probability alone, and the confidence the
model file carries), and prints Kendall tau-c on Flickr8k-Expert and tau-b on Flickr8k-CF (x100),
next to the published figures of Hessel et al. 2021 ("CLIPScore", EMNLP, Table 1). A measurement,
not a test: it asserts nothing. METEOR needs Java; without it, its row is left out.

    python bench/human_agreement.py                  # the shipped model, ../shared/data/flickr8k (or $IMGCAP_DATA)
    python bench/human_agreement.py --json tau.json --markdown
"""
import argparse, json, shutil, time
from pathlib import Path


def markdown(table) -> str:
    "A Markdown table, numbers to one decimal, '-' where there is none."
    cell = lambda v: '-' if v != v else f'{v:.1f}'
    rows = [['score', *table.columns], ['---'] + ['---:'] * len(table.columns)] + [[k, *map(cell, r)] for k, r in zip(table.index, table.values)]
    return '\n'.join('| ' + ' | '.join(r) + ' |' for r in rows)


def main(argv=None):
    import pandas as pd
    from imgcap.captioner import default_model_path
    from imgcap.confidence import rate_scorer, stored_confidence
    from imgcap.core import data_dir
    from imgcap.evaluate import PUBLISHED_TAU, correlation_table, reference_scorer
    from imgcap.model import load_model
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('--model', help='model file (default: the shipped model)')
    ap.add_argument('--data', help='the Flickr8k folder with the judgement files (default: $IMGCAP_DATA or ../shared/data/flickr8k)')
    ap.add_argument('--json', metavar='FILE', help='also write the table as JSON')
    ap.add_argument('--markdown', action='store_true', help='print the table as Markdown (for the README)')
    a = ap.parse_args(argv)
    t0 = time.time()
    model, vocab, info = load_model(a.model or default_model_path())
    metrics = ('BLEU-4', 'METEOR', 'CIDEr') if shutil.which('java') else ('BLEU-4', 'CIDEr')
    ct = correlation_table([reference_scorer(metrics), rate_scorer(model, vocab, stored_confidence(info))], a.data or data_dir())
    pub = pd.DataFrame.from_dict(PUBLISHED_TAU, orient='index', columns=[f'{c} (published)' for c in ct.columns])
    ours = [k for k in ct.index if k not in metrics]
    table = ct.join(pub, how='outer').loc[[*metrics, *ours, *[k for k in PUBLISHED_TAU if k not in metrics]]]
    print(markdown(table) if a.markdown else table.to_string(na_rep='-'))
    print(f'model {Path(info["path"]).name}; {time.time() - t0:.0f} s')
    if a.json: Path(a.json).write_text(table.to_json(orient='index', indent=1) + '\n')


if __name__ == '__main__':
    main()
