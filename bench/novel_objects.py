"""Novel objects: DCC's held-out-objects protocol (Hendricks et al. 2016) on Flickr8k, with and without the ImageNet boost.

Removes every training photo whose captions name one of `HELDOUT_OBJECTS` (`hold_out_objects`), trains a model on
what remains (the default recipe, cross-entropy stage only; its vocabulary is built from all the training captions
*before* the removal, so the held-out words exist but no training caption uses them), then:

1. chooses the boost strength on the validation photos (the mean over the objects of DCC's F1), never on test;
2. reports `mention_f1` (DCC's F1 per object and the CIDEr of the photos naming it) on the test photos, without and
   with the boost, and a few examples.

    OMP_NUM_THREADS=1 python bench/novel_objects.py --out /tmp/novel      # trains first when OUT has no model (~16 min, one core)

`--in-domain` instead measures what the boost costs on Flickr8k itself, with the shipped model (or `--model`) and the
captioner's own encoder as `imgcap evaluate` runs it: all metrics on val at each strength, the strength with the best
val CIDEr chosen, then test once without and with it.

    OMP_NUM_THREADS=1 python bench/novel_objects.py --in-domain --strengths 0,1,2,4,8,24

Prints markdown tables. Needs the Flickr8k folder ($IMGCAP_DATA) and its Lite0 feature cache ($IMGCAP_CACHE).
"""
import argparse, sys, time, warnings
from pathlib import Path

import torch

from imgcap.core import data_dir
from imgcap.data import load_captions
from imgcap.text import tokenize, train_vocab
from imgcap.features import compute_features
from imgcap.batches import CaptionSet
from imgcap.model import CaptionConfig, ShowTell, save_model, load_model
from imgcap.train import TrainConfig, fit
from imgcap.evaluate import HELDOUT_OBJECTS, hold_out_objects, object_mentions, mention_f1
from imgcap.captioner import Captioner, DEFAULT_BEAM
from imgcap.metrics import CiderD


def train_heldout(out:Path, seed:int=0) -> Path:
    "Train the held-out model into `out/heldout.safetensors` (cross-entropy only, the default recipe otherwise)."
    f8k = load_captions(data_dir())
    vocab = train_vocab(f8k.captions)                      # before the removal: the held-out words keep their ids
    held, removed = hold_out_objects(f8k)
    print(markdown(removed), flush=True)
    mc, cfg = CaptionConfig(vocab_size=len(vocab)), TrainConfig(scst_epochs=0, seed=seed)
    feats = compute_features(f8k.image_dir, f8k.images(), mc.encoder, grid=mc.grid, flip=mc.flip)
    train = CaptionSet.from_table(held.split('train'), feats, vocab, max_len=mc.max_len)
    va = held.images('val')
    torch.manual_seed(cfg.seed)
    t0 = time.time()
    model, hist = fit(ShowTell(mc), vocab, train, va, feats.get(va), held.references(va, tokenize), cfg, out=out)
    info = dict(data=held.name, split=held.split_info, train=dict(vars(cfg)), history=hist, train_seconds=round(time.time() - t0, 1),
                command='python bench/novel_objects.py', min_count=5)
    path = out/'heldout.safetensors'
    save_model(model, vocab, path, info=info)
    return path


def caption_rows(cap:Captioner, f8k, names:list, feats, boost:float, beam:int) -> list[dict]:
    "Captions of `names` as `evaluate` writes them (`image`, `caption`, `references`)."
    refs = f8k.references(names)
    out = []
    for i in range(0, len(names), 200):
        out += cap.caption_features(feats.get(names[i:i + 200]), beam=beam, imagenet_boost=boost, confidence=False)
    return [dict(image=n, caption=r['caption'], references=refs[n]) for n, r in zip(names, out)]


def split_scores(cap:Captioner, f8k, split:str, strengths:list, beam:int) -> dict:
    "pycocoevalcap's scores of the captions of a whole split at each boost strength, as `evaluate` computes them."
    from imgcap.metrics import coco_scores
    names = f8k.images(split)
    feats, refs, out = compute_features(f8k.image_dir, names, cap.encoder, progress=False), f8k.references(names), {}
    for s in strengths:
        res = []
        for i in range(0, len(names), 200): res += cap.caption_features(feats.get(names[i:i + 200]), beam=beam, imagenet_boost=s, confidence=False)
        out[s] = {k: round(v, 4) for k, v in coco_scores(refs, {n: r['caption'] for n, r in zip(names, res)}).items()}
        print(f'{split} strength {s:g}: {out[s]}', file=sys.stderr, flush=True)
    return out


def in_domain(model, strengths:list, beam:int):
    "The boost on Flickr8k: val at each strength, the best val CIDEr chosen, test once without and with it."
    import pandas as pd
    cap, f8k = Captioner.load(model), load_captions(data_dir())
    val = pd.DataFrame.from_dict(split_scores(cap, f8k, 'val', strengths, beam), orient='index').rename_axis('strength')
    chosen = float(val['CIDEr'].idxmax())
    print(f'## {cap.name}, beam {beam}, precision {cap.precision}: val\n'); print(markdown(val))
    test = pd.DataFrame.from_dict(split_scores(cap, f8k, 'test', sorted({0., chosen}), beam), orient='index').rename_axis('strength')
    print(f'\n## test, once: without and with the strength chosen on val ({chosen:g})\n'); print(markdown(test))


def markdown(df) -> str:
    "A DataFrame as a markdown table (no extra package)."
    head = '| ' + ' | '.join([str(df.index.name or '')] + [str(c) for c in df.columns]) + ' |'
    return '\n'.join([head, '| --- ' * (len(df.columns) + 1) + '|'] + ['| ' + ' | '.join(map(str, [i, *r])) + ' |' for i, r in zip(df.index, df.values.tolist())])


def corpus_cider(rows:list) -> float:
    return CiderD({r['image']: [tokenize(x) for x in r['references']] for r in rows}).corpus({r['image']: tokenize(r['caption']) for r in rows})[0]


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--out', help='folder for the held-out model (trained when missing)')
    p.add_argument('--in-domain', action='store_true', help='measure the boost on Flickr8k with a full model instead')
    p.add_argument('--model', help='with --in-domain: the model file (default: the shipped model)')
    p.add_argument('--strengths', default='0,4,8,12,16,24,32,48', help='boost strengths tried on val')
    p.add_argument('--beam', type=int, default=DEFAULT_BEAM)
    p.add_argument('--train-only', action='store_true')
    a = p.parse_args(argv)
    if a.in_domain: return in_domain(a.model, [float(x) for x in a.strengths.split(',')], a.beam)
    if not a.out: p.error('--out is needed (the held-out model goes there)')
    out = Path(a.out); out.mkdir(parents=True, exist_ok=True)
    path = out/'heldout.safetensors'
    if not path.exists(): train_heldout(out)
    if a.train_only: return
    warnings.simplefilter('ignore')
    f8k = load_captions(data_dir())
    cap = Captioner.load(path, device='cpu')
    feats = compute_features(f8k.image_dir, f8k.images(), 'lite0', progress=False)  # the cache training used
    hist = cap.info['info']['history']
    best = max(hist, key=lambda h: h['val_cider'])
    print(f"held-out model: {path} (val CIDEr-D greedy {best['val_cider']:.3f}, {best['stage']} epoch {best['epoch']}; "
          f"{cap.info['info']['split']['held_out']['photos_removed']} training photos removed; trained in {cap.info['info']['train_seconds']:.0f} s)\n")
    objs = list(HELDOUT_OBJECTS)
    om = object_mentions(f8k.captions)
    val = f8k.images('val')
    # 1. strength on val: F1 over all val photos, CIDEr of those naming each object, CIDEr-D of all
    rows = {}
    for s in map(float, a.strengths.split(',')):
        vr = caption_rows(cap, f8k, val, feats, s, a.beam)
        mf = mention_f1(vr)
        rows[s] = {'val mean F1': mf.loc['mean', 'F1'], 'val mean object CIDEr': mf.loc['mean', 'CIDEr'],
                   'val CIDEr-D (all photos)': round(corpus_cider(vr), 4)}
        print(f'strength {s:g}: {rows[s]}', flush=True)
    import pandas as pd
    vt = pd.DataFrame.from_dict(rows, orient='index').rename_axis('strength')
    print('\n## Strength, on validation\n'); print(markdown(vt))
    chosen = float(vt['val mean F1'].idxmax())
    print(f'\nchosen on val: strength {chosen:g}\n')
    # 2. test, once: without and with
    test = f8k.images('test')
    t0 = caption_rows(cap, f8k, test, feats, 0., a.beam)
    t1 = caption_rows(cap, f8k, test, feats, chosen, a.beam)
    m0, m1 = mention_f1(t0), mention_f1(t1)
    tab = pd.concat({'without': m0[['photos', 'precision', 'recall', 'F1', 'CIDEr']], f'boost {chosen:g}': m1[['precision', 'recall', 'F1', 'CIDEr']]}, axis=1)
    print(f'## Test photos (beam {a.beam}): DCC F1 and CIDEr of the photos naming each object\n'); tab.columns = [' '.join(c) for c in tab.columns]; print(markdown(tab))
    print(f'\nall test photos, CIDEr-D: without {corpus_cider(t0):.4f}, with {corpus_cider(t1):.4f}')
    # 3. examples: test photos naming an object whose caption changed
    pos = set(om.index[om[objs].any(axis=1)])
    ex = [(a0, a1) for a0, a1 in zip(t0, t1) if a0['image'] in pos and a0['caption'] != a1['caption']]
    print(f'\n## Examples ({len(ex)} test photos naming an object changed their caption; the first 8)\n')
    print('| photo | without | with | a reference |\n| --- | --- | --- | --- |')
    for a0, a1 in ex[:8]: print(f"| {a0['image']} | {a0['caption']} | {a1['caption']} | {a0['references'][0]} |")


if __name__ == '__main__': sys.exit(main())
