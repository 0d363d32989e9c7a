"""Load benchmark of the imgcap web service: N caption requests from C concurrent clients.

Starts the server (`imgcap.serve.run_server`, what `imgcap serve` runs) on 127.0.0.1 (or uses --url),
sends the same photo N times from C threads, and prints the machine, the settings, the throughput
and the latency percentiles. With --overhead it also times the same caption called directly on a
`Captioner` in this process (before the server starts, so that the two do not compete for the CPU)
and prints what the server adds to it per request: HTTP, multipart parsing, decoding in a worker
thread, the micro-batcher. A benchmark, not a test: it asserts nothing.

    python bench/serve_bench.py                       # the shipped model, 200 requests, 8 clients
    python bench/serve_bench.py -c 1 -n 100 --overhead  # single-client latency, and the server's share of it
    python bench/serve_bench.py --tiny                # a tiny random model (the encoder is real)
    python bench/serve_bench.py --url http://127.0.0.1:8000 -n 500 -c 16
"""
import argparse, concurrent.futures, json, os, platform, sys, tempfile, time
from pathlib import Path

import httpx
import torch


def tiny_model(folder) -> Path:
    "A tiny untrained model: the real lite0 encoder, a 16-unit decoder. Its captions are nonsense."
    from imgcap.testing import make_tiny_model
    return make_tiny_model(Path(folder)/'tiny.safetensors')


def pct(xs, q):
    "The q-th percentile (nearest rank) of xs."
    xs = sorted(xs)
    return xs[min(len(xs) - 1, max(0, round(q / 100 * len(xs)) - 1))]


def run(url, photo:bytes, name:str, n:int, clients:int, beam:int, n_best:int):
    "Send n requests from `clients` threads: (latencies of the good ones in s, errors, seconds in all)."
    def work(k):
        lat, errs = [], []
        with httpx.Client(base_url=url, trust_env=False, timeout=300) as c:
            for _ in range(k, n, clients):
                t = time.perf_counter()
                try:
                    r = c.post('/caption', files={'file': (name, photo)}, data={'beam': beam, 'n_best': n_best})
                    if r.status_code == 200 and 'caption' in r.json()[0]: lat.append(time.perf_counter() - t)
                    else: errs.append(f'{r.status_code}: {r.text[:200]}')
                except httpx.HTTPError as e: errs.append(repr(e))
        return lat, errs
    t0 = time.perf_counter()
    with concurrent.futures.ThreadPoolExecutor(clients) as ex: parts = list(ex.map(work, range(clients)))
    secs = time.perf_counter() - t0
    return [x for l, _ in parts for x in l], [e for _, es in parts for e in es], secs


def direct(model, photo:bytes, name:str, n:int, beam:int, n_best:int) -> list:
    "Latencies of `n` calls of `Captioner.caption` on the photo's bytes, in this process: the model's own time."
    from imgcap.captioner import Captioner
    cap = Captioner.load(model)
    for _ in range(3): cap.caption([photo], names=[name], beam=beam, n_best=n_best)  # warm-up
    lat = []
    for _ in range(n):
        t = time.perf_counter(); cap.caption([photo], names=[name], beam=beam, n_best=n_best); lat.append(time.perf_counter() - t)
    return lat


def bench(url, args, started:str, direct_lat=None):
    photo = Path(args.image).read_bytes()
    h = lambda: httpx.get(url + '/health', trust_env=False, timeout=30).json()
    info = h()
    print(f"server:   {url} ({started}); model {info['model']} ({info['encoder']}, vocab {info['vocab_size']}, {info['device']})")
    from PIL import Image
    w, hgt = Image.open(args.image).size
    print(f"settings: {args.requests} requests, {args.clients} concurrent clients, one photo a request: "
          f"{Path(args.image).name} ({w} x {hgt}, {len(photo) / 1024:.0f} KB), beam {args.beam}, n_best {args.n_best}; "
          f"{args.warmup} warm-up requests first")
    run(url, photo, Path(args.image).name, args.warmup, min(args.clients, max(args.warmup, 1)), args.beam, args.n_best)
    before = h()
    lat, errs, secs = run(url, photo, Path(args.image).name, args.requests, args.clients, args.beam, args.n_best)
    after = h()
    photos, batches = after['photos'] - before['photos'], after['batches'] - before['batches']
    print(f"results:  {len(lat)} ok, {len(errs)} errors in {secs:.2f} s: {len(lat) / secs:.2f} req/s")
    if lat:
        print(f"latency:  p50 {pct(lat, 50) * 1000:.0f} ms, p95 {pct(lat, 95) * 1000:.0f} ms, max {max(lat) * 1000:.0f} ms")
    if batches: print(f"batching: {photos} photos in {batches} model calls, {photos / batches:.1f} photos a call")
    if direct_lat and lat:
        d50, s50 = pct(direct_lat, 50), pct(lat, 50)
        print(f"direct:   Captioner.caption on the same photo in-process: p50 {d50 * 1000:.1f} ms ({len(direct_lat)} calls); "
              f"the server adds {(s50 - d50) * 1000:.1f} ms a request at p50")
    for e in errs[:5]: print('error:   ', e)
    return 1 if errs else 0


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--url', help='a running server (default: start one here on 127.0.0.1)')
    p.add_argument('--model', help='model file for the server started here (default: the shipped model)')
    p.add_argument('--tiny', action='store_true', help='serve a tiny random model instead (real encoder, nonsense captions)')
    p.add_argument('-n', '--requests', type=int, default=200)
    p.add_argument('-c', '--clients', type=int, default=8)
    p.add_argument('--warmup', type=int, default=8)
    p.add_argument('--image', help="photo to send (default: matplotlib's grace_hopper.jpg)")
    p.add_argument('--beam', type=int, default=3)
    p.add_argument('--n-best', type=int, default=1)
    p.add_argument('--overhead', action='store_true', help="also time Captioner.caption directly, and print the server's share")
    args = p.parse_args(argv)
    if not args.image:
        from imgcap.cli import sample_photo
        args.image = str(sample_photo())
    load = ', load average %.2f %.2f %.2f' % os.getloadavg() if hasattr(os, 'getloadavg') else ''
    gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else 'no CUDA'
    print(f"machine:  {platform.platform()}, {platform.machine()}, {os.cpu_count()} CPUs{load}; "
          f"Python {platform.python_version()}, torch {torch.__version__} ({torch.get_num_threads()} threads), {gpu}")
    photo, name = Path(args.image).read_bytes(), Path(args.image).name
    if args.url: return bench(args.url.rstrip('/'), args, 'given')
    from imgcap.serve import serve_in_background
    with tempfile.TemporaryDirectory() as d:
        model = tiny_model(d) if args.tiny else args.model
        lat = direct(model, photo, name, args.requests, args.beam, args.n_best) if args.overhead else None
        with serve_in_background(model) as srv: return bench(srv.url, args, 'started here, run_server', lat)


if __name__ == '__main__': sys.exit(main())
