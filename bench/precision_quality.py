"""Test-split scores of a model with its encoder in each precision: does the fast path move quality?

Encodes the split's photos once per precision (into a temporary feature cache), decodes them in
the same precision (as `Captioner` does: bf16 features are decoded under bf16 autocast) with the
same beam, scores with pycocoevalcap, and prints each precision's scores, their differences from
the first one's, and how many captions are identical. A precision may name who runs the encoder,
`fp32:torch` or `fp32:onnx` (ONNX Runtime); a bare one takes the default. A measurement, not a
test: it asserts nothing.

    python bench/precision_quality.py                       # shipped model, all 1,000 test photos, beam 3
    python bench/precision_quality.py --limit 100 --json q.json
    python bench/precision_quality.py --split val --precision fp32:torch fp32:onnx
"""
import argparse, json, shutil, tempfile, time
from pathlib import Path


def main(argv=None):
    from imgcap.captioner import Captioner, DEFAULT_BEAM, default_model_path
    from imgcap.core import data_dir
    from imgcap.data import load_captions
    from imgcap.features import ImageEncoder, compute_features
    from imgcap.model import load_model
    from imgcap.metrics import coco_scores
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('--model', help='model file (default: the shipped model)')
    ap.add_argument('--data', help='captions folder (default: the Flickr8k folder)')
    ap.add_argument('--split', default='test')
    ap.add_argument('--limit', type=int, default=0, help='only the first N photos of the split (0: all)')
    ap.add_argument('--beam', type=int, default=DEFAULT_BEAM)
    ap.add_argument('--precision', nargs='+', default=['fp32', 'bf16'], help='precisions (fp32, bf16, auto), each optionally :torch or :onnx')
    ap.add_argument('--json', metavar='FILE')
    a = ap.parse_args(argv)
    cd = load_captions(a.data or data_dir())
    df = cd.split(a.split)
    refs = df.groupby('image')['caption'].apply(list).to_dict()
    names = sorted(refs)[:a.limit or None]
    tmp, out, caps = Path(tempfile.mkdtemp(prefix='imgcap-quality-')), {}, {}
    model, vocab, info = load_model(a.model or default_model_path())
    for p in a.precision:
        prec, _, engine = p.partition(':')
        c = model.cfg
        cap = Captioner(model, vocab, info, device='cpu', encoder=ImageEncoder(c.encoder, grid=c.grid, flip=c.flip, precision=prec, engine=engine or 'auto'))
        t0 = time.time()  # encoder and decoder in precision `prec`, the encoder run by `engine`
        folder = tmp/p.replace(':', '-')  # a folder each: another run's cache in the same folder would be reused (same precision, same rows)
        folder.mkdir()
        f = compute_features(cd.image_dir, names, cap.encoder, cache=folder/'features', progress=False)
        secs, t0, res = time.time() - t0, time.time(), []
        for i in range(0, len(names), 200): res += cap.caption_features(f.get(names[i:i + 200]), beam=a.beam)
        caps[p] = [r['caption'] for r in res]
        out[p] = dict(coco_scores({n: refs[n] for n in names}, dict(zip(names, caps[p]))), encode_seconds=round(secs, 1),
                      decode_seconds=round(time.time() - t0, 1))
        print(p, {k: round(v, 4) for k, v in out[p].items()}, flush=True)
    base = a.precision[0]
    for p in a.precision[1:]:
        diff = {k: round(out[p][k] - out[base][k], 4) for k in ('BLEU-4', 'CIDEr', 'METEOR', 'ROUGE-L') if k in out[p]}
        same = sum(x == y for x, y in zip(caps[base], caps[p]))
        out[p].update(diff_from=base, diff=diff, identical_captions=same)
        print(f'{p} - {base}: {diff}; identical captions {same} of {len(names)}')
    if a.json: Path(a.json).write_text(json.dumps(dict(split=a.split, photos=len(names), beam=a.beam, scores=out), indent=1) + '\n')
    shutil.rmtree(tmp)


if __name__ == '__main__':
    main()
