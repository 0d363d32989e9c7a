"""An ensemble of trained models, on Flickr8k val: the ceiling of distilling it into one model (issue 9).

Not a shipping path (the shipped model is one file and one decoder pass a step): it measures how much a few
models of the same recipe gain together, and writes their captions of the training photos, the teacher's
captions for sequence-level distillation (Kim & Rush 2016). The models must share the vocabulary and the
encoder (seeds of one recipe do); given one model, the teacher is that model alone. At each step of beam
search the next word's log-probability is the log of the models' mean probability; everything else is
`beam_search` as `imgcap caption` runs it, in the precision `--precision auto` picks (`imgcap.decode.Ensemble`;
`imgcap train --teachers` distils with the same).

    python bench/ensemble.py imgcap/models/flickr8k.safetensors runs/seed1/best.safetensors runs/seed2/best.safetensors
    python bench/ensemble.py MODEL... --teacher-captions runs/kd       # also: Flickr8k plus one teacher caption a training photo

The first prints one JSON line per model and one for the ensemble (of more than one): val BLEU-4 / METEOR /
CIDEr at beam 3. The second also writes `runs/kd/Flickr8k.token.txt` (the human captions, then the teacher's
caption of each training photo as its next caption number), the three split lists and a link to the photos: a
Flickr8k folder that `imgcap train --data runs/kd` reads. Only the training photos get a teacher caption; val
and test are untouched. The student of `nbs/09_train.ipynb` learns the cross-entropy stage from that folder and
the self-critical stage from the human captions alone, then is scored on val:

    imgcap train --data runs/kd --out runs/kd-xe --scst-epochs 0
    imgcap train --data ../shared/data/flickr8k --out runs/kd-student --init runs/kd-xe/best.safetensors --epochs 0
    imgcap evaluate --data ../shared/data/flickr8k --split val --model runs/kd-student/best.safetensors
"""
import argparse, json, shutil
from pathlib import Path

import torch

from imgcap.core import data_dir, atomic_write
from imgcap.captioner import Captioner
from imgcap.decode import Ensemble, beam_search
from imgcap.evaluate import captions_for
from imgcap.features import compute_features
from imgcap.metrics import coco_scores
from imgcap.data import FLICKR8K_SPLIT_FILES


def captions(cap, model, feats, beam, batch=200):
    out = []
    with cap.autocast():
        for i in range(0, len(feats), batch):
            out += [cap.vocab.decode(h[0].tokens) for h in
                    beam_search(model, feats[i:i + batch].to(cap.device), beam=beam, max_len=cap.model.cfg.max_len)]
    return out


def write_teacher_data(out:Path, names, caps, data:Path):
    "A Flickr8k folder at `out`: the human captions plus `caps` (one a training photo, in `names` order)."
    src = (data/'Flickr8k.token.txt').read_text().rstrip('\n').split('\n')
    last = {}
    for line in src:
        name, _, n = line.split('\t')[0].rpartition('#'); last[name] = max(last.get(name, -1), int(n))
    out.mkdir(parents=True, exist_ok=True)
    text = '\n'.join(src + [f'{n}#{last[n] + 1}\t{c}' for n, c in zip(names, caps)]) + '\n'
    atomic_write(out/'Flickr8k.token.txt', lambda t: Path(t).write_text(text))
    for f in FLICKR8K_SPLIT_FILES.values(): shutil.copyfile(data/f, out/f)
    if not (out/'images').exists(): (out/'images').symlink_to((data/'images').resolve())


def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('models', nargs='+', help='model files of one recipe (same vocabulary and encoder)')
    p.add_argument('--data', default=None, help='the Flickr8k folder (default: ../shared/data/flickr8k or $IMGCAP_DATA)')
    p.add_argument('--beam', type=int, default=3)
    p.add_argument('--teacher-captions', type=Path, default=None, help='also write a Flickr8k folder with one ensemble caption per training photo here')
    a = p.parse_args()
    caps = [Captioner.load(m) for m in a.models]
    first = caps[0]
    for c in caps[1:]:
        if c.vocab.itos != first.vocab.itos or c.model.cfg.encoder != first.model.cfg.encoder:
            raise SystemExit(f'{c.name}: its vocabulary or encoder differs from {first.name}; an ensemble needs the same')
    data = Path(a.data or data_dir())
    cd = captions_for(first.info, data)
    names = sorted(cd.split('val')['image'].unique())
    feats = compute_features(cd.image_dir, names, first.encoder, progress=False).get(names)
    refs = cd.references(names)
    runs = [(m, c.model) for m, c in zip(a.models, caps)]
    if len(caps) > 1: runs.append((f'ensemble of {len(caps)}', Ensemble([c.model for c in caps])))
    print(json.dumps(dict(split='val', photos=len(names), beam=a.beam, precision=first.precision, torch_threads=torch.get_num_threads())))
    for name, model in runs:
        s = coco_scores(refs, dict(zip(names, captions(first, model, feats, a.beam))))
        print(json.dumps(dict(model=name, **{k: round(s[k], 4) for k in ('BLEU-4', 'METEOR', 'CIDEr') if k in s})), flush=True)
    if a.teacher_captions:
        tr = sorted(cd.split('train')['image'].unique())
        tf = compute_features(cd.image_dir, tr, first.encoder, progress=False).get(tr)
        write_teacher_data(a.teacher_captions, tr, captions(first, runs[-1][1], tf, a.beam), data)
        print(json.dumps(dict(teacher_captions=str(a.teacher_captions/'Flickr8k.token.txt'), photos=len(tr))))


if __name__ == '__main__': main()
