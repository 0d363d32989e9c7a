"""Decode-only speed of a captioning model: greedy, beam 3 and beam 5, in float32 and bfloat16.

Decodes the Lite0 features of the first N Flickr8k test photos (computed once, then cached by
`imgcap.features.compute_features`) in batches, as `Captioner.caption` does, with
`imgcap.decode.decode_rate`, and prints photos/s and how many beam-3 captions bfloat16 changes.
`--baseline REV` also times the decoders of an older commit in the same run, on the same features
and weights, and counts the captions on which they disagree. A benchmark, not a test: it asserts
nothing.

    python bench/decode_speed.py                      # the shipped model, 256 photos, batches of 16
    python bench/decode_speed.py --baseline f9ee029   # and the decoders as they were at f9ee029
    python bench/decode_speed.py --threads 1 --cpu-time   # photos per CPU-second, one thread (a busy machine)
"""
import argparse, contextlib, importlib, os, platform, subprocess, sys, tempfile, time, warnings
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parent.parent


def machine() -> str:
    "CPU model, the flags that matter here, cores, torch threads and version, and the load."
    cpu = next((l.split(':', 1)[1].strip() for l in Path('/proc/cpuinfo').read_text().splitlines() if l.startswith('model name')), platform.processor()) \
        if Path('/proc/cpuinfo').exists() else platform.processor()
    flags = Path('/proc/cpuinfo').read_text() if Path('/proc/cpuinfo').exists() else ''
    have = [f for f in ('avx512f', 'avx512_bf16', 'avx512_vnni', 'amx_bf16') if f' {f}' in flags]
    load = os.getloadavg()[0] if hasattr(os, 'getloadavg') else float('nan')
    return (f'{cpu} ({", ".join(have) or "no AVX-512"}), {os.cpu_count()} cores, torch {torch.__version__} '
            f'with {torch.get_num_threads()} threads, load average {load:.1f}')


def baseline_decoders(rev:str):
    "The `model` and `decode` modules of commit `rev`, imported as a package of their own."
    d = Path(tempfile.mkdtemp())/'imgcap_base'; d.mkdir()
    for name in ('__init__', 'core', 'text', 'model', 'decode'):
        src = subprocess.run(['git', '-C', str(ROOT), 'show', f'{rev}:imgcap/{name}.py'], capture_output=True, text=True, check=True).stdout
        (d/f'{name}.py').write_text(src if name != '__init__' else '')
    sys.path.insert(0, str(d.parent))
    return importlib.import_module('imgcap_base.model'), importlib.import_module('imgcap_base.decode')


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--model', help='model file (default: the shipped model)')
    p.add_argument('-n', type=int, default=256, help='test photos (default 256)')
    p.add_argument('--batch-size', type=int, default=16, help='photos a decoder call (default 16, as Captioner.caption)')
    p.add_argument('--repeat', type=int, default=3, help='timed runs; the best counts (default 3)')
    p.add_argument('--threads', type=int, help='torch threads (default: torch\'s choice)')
    p.add_argument('--cpu-time', action='store_true', help='photos per CPU-second of this process instead of per second of wall time '
                   '(steadier on a busy machine; with --threads 1 the two agree on a quiet one)')
    p.add_argument('--baseline', metavar='REV', help='also time the decoders of this git commit')
    a = p.parse_args(argv)
    if a.threads: torch.set_num_threads(a.threads)
    from imgcap.core import data_dir
    from imgcap.data import load_captions
    from imgcap.features import compute_features
    from imgcap.model import load_model
    from imgcap.decode import greedy, beam_search, decode_rate
    from imgcap.captioner import DEFAULT_MODEL
    path = a.model or DEFAULT_MODEL
    model, vocab, _ = load_model(path)
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        data = load_captions(data_dir())
    names = data.images('test')[:a.n]
    feats = compute_features(data.image_dir, names, encoder=model.cfg.encoder, grid=model.cfg.grid, flip=model.cfg.flip,
                             progress=False).get(names).float()
    print(f'machine: {machine()}')
    print(f'model: {Path(path).name}, {len(names)} Flickr8k test photos, batches of {a.batch_size}, best of {a.repeat} runs, '
          f'{"CPU" if a.cpu_time else "wall"} time')
    runs = [('greedy', 'greedy', {}), ('beam 3', 'beam_search', dict(beam=3)), ('beam 5', 'beam_search', dict(beam=5)),
            ('beam 3, trigrams', 'beam_search', dict(beam=3, block_trigrams=True))]
    new = dict(greedy=greedy, beam_search=beam_search)
    bf16 = lambda: torch.autocast('cpu', dtype=torch.bfloat16)
    cols = [('float32', lambda: model, new, contextlib.nullcontext), ('bfloat16', lambda: model, new, bf16)]
    if a.baseline:
        old_model, old_decode = baseline_decoders(a.baseline)
        old, *_ = old_model.load_model(path)
        cols.insert(0, (f'{a.baseline} float32', lambda: old, dict(greedy=old_decode.greedy, beam_search=old_decode.beam_search), contextlib.nullcontext))
    clock = time.process_time if a.cpu_time else time.perf_counter
    print(f'{"photos/s":>18}' + ''.join(f'{c:>18}' for c, *_ in cols))
    for name, dec, kw in runs:
        rates = []
        for _, m, decs, ctx in cols:
            with ctx(): rates.append(decode_rate(m(), feats, decs[dec], batch_size=a.batch_size, repeat=a.repeat, clock=clock, **kw))
        print(f'{name:>18}' + ''.join(f'{r:18.0f}' for r in rates), flush=True)
    beam3 = lambda m, f: [hs[0].tokens for i in range(0, len(feats), a.batch_size) for hs in f(m, feats[i:i+a.batch_size], beam=3)]
    ref = beam3(model, beam_search)
    with bf16(): low = beam3(model, beam_search)
    print(f'beam 3 captions that differ in bfloat16: {sum(x != y for x, y in zip(ref, low))} of {len(ref)}')
    if a.baseline:
        print(f'beam 3 captions that differ from {a.baseline}: {sum(x != y for x, y in zip(ref, beam3(old, old_decode.beam_search)))} of {len(ref)}')


if __name__ == '__main__': main()
