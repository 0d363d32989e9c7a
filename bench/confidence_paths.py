"""Does the captioner's cheaper confidence move it? The shipped model's val captions rated three ways.

The captioner rates its own captions from the search's totals (no second pass with the photo) and runs the
no-photo pass in its own precision. This captions the 1,000 val photos as a bf16 captioner does (bf16 features,
beam 3 under autocast) and compares, against a full float32 rating of the same captions (`rate_tokens`): the
confidence with the search's totals, and with the search's totals and the no-photo pass in bf16. Prints the
largest differences, and each one's AUC against the good/bad labels the calibration uses. A measurement, not a test.

    python bench/confidence_paths.py
"""
import numpy as np
import torch

from imgcap.captioner import Captioner
from imgcap.confidence import rate_tokens, rate_found, apply_confidence, caption_cider, roc_auc, no_photo_features
from imgcap.core import data_dir
from imgcap.data import load_captions
from imgcap.decode import beam_search


def main():
    c = Captioner.load(precision='bf16'); P = c.confidence
    cd = load_captions(data_dir()); names = cd.images('val')
    feats = torch.cat([c.encoder.encode([cd.image_dir/n for n in names[i:i + 100]]) for i in range(0, len(names), 100)])
    with c.autocast(): found = [h[0] for i in range(0, len(names), 100) for h in beam_search(c.model, feats[i:i + 100], beam=P['beam'])]
    toks, totals = [h.tokens for h in found], [h.logprob for h in found]
    good = [x >= P['good_cider'] for x in caption_cider(cd.references(names), {n: c.vocab.decode(t) for n, t in zip(names, toks)})]
    nf = no_photo_features(c.model, P['no_photos'])
    full = rate_tokens(c.model, feats.float(), toks, no_photo=nf)
    ways = {'full float32 rating': full, "search's totals": rate_found(c.model, toks, totals, nf)}
    with c.autocast(): ways["search's totals, no photo in bf16"] = rate_found(c.model, toks, totals, nf)
    ref = np.array(apply_confidence(P, full))
    print(f'{len(names)} val photos, beam {P["beam"]}, bf16 captioner')
    for k, rs in ways.items():
        cf = np.array(apply_confidence(P, rs))
        print(f'{k:36s} AUC {roc_auc(cf, good):.4f}  confidence moved: mean {np.abs(cf - ref).mean():.4f}, max {np.abs(cf - ref).max():.4f}')


if __name__ == '__main__':
    main()
