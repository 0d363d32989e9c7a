"""Load benchmark of the imgcap web service: N caption requests from C concurrent clients.

Starts the server (`imgcap.serve.run_server`, what `imgcap serve` runs) on 127.0.0.1 (or uses --url),
sends the same photo N times from C threads, and prints the machine, the settings, the throughput
and the latency percentiles, and the CPU time the server and the clients spent a request (they share
this machine's cores). With --overhead it then times the same caption called directly on a
`Captioner` in this process and single requests to the server, in turn, so that both meet the same
machine (its load swings within minutes), and prints what the server adds per request: HTTP,
multipart parsing, decoding in a worker thread, the micro-batcher. A benchmark, not a test: it
asserts nothing.

    python bench/serve_bench.py                       # the shipped model, 200 requests, 8 clients
    python bench/serve_bench.py -c 1 -n 100 --overhead  # single-client latency, and the server's share of it
    python bench/serve_bench.py -c 1 --endpoint predict --set threads=1  # /predict, the server with one torch thread
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


def cpu_seconds(pid=None) -> float|None:
    "CPU time (user + system, all threads) a process has used so far: this one, or `pid`'s (Linux); None when unknown."
    if pid is None: t = os.times(); return t.user + t.system
    try: f = Path(f'/proc/{pid}/stat').read_text().rsplit(')', 1)[1].split()
    except OSError: return None
    return (int(f[11]) + int(f[12])) / os.sysconf('SC_CLK_TCK')  # utime, stime


def run(url, photo:bytes, name:str, n:int, clients:int, endpoint:str, data:dict):
    "Send n requests from `clients` threads: (latencies of the good ones in s, errors, seconds in all)."
    def work(k):
        lat, errs = [], []
        with httpx.Client(base_url=url, trust_env=False, timeout=300) as c:
            for _ in range(k, n, clients):
                t = time.perf_counter()
                try:
                    r = c.post(endpoint, files={'file': (name, photo)}, data=data)
                    if r.status_code == 200 and 'caption' in (r.json()[0] if endpoint == '/caption' else r.json()): lat.append(time.perf_counter() - t)
                    else: errs.append(f'{r.status_code}: {r.text[:200]}')
                except httpx.HTTPError as e: errs.append(repr(e))
        return lat, errs
    t0 = time.perf_counter()
    with concurrent.futures.ThreadPoolExecutor(clients) as ex: parts = list(ex.map(work, range(clients)))
    secs = time.perf_counter() - t0
    return [x for l, _ in parts for x in l], [e for _, es in parts for e in es], secs


def captioner(model, photo:bytes, name:str, beam:int, n_best:int):
    "A `Captioner` in this process, warmed up, and a call that captions the photo's bytes with it: the model's own time."
    from imgcap.captioner import Captioner
    cap = Captioner.load(model)
    call = lambda: cap.caption([photo], names=[name], beam=beam, n_best=n_best)
    for _ in range(3): call()
    return call


def alternate(url, call, photo:bytes, name:str, n:int, endpoint:str, data:dict):
    "Latencies of `n` direct calls and `n` single requests, taken in turn so that both meet the same machine (the other side idles meanwhile)."
    direct, served = [], []
    with httpx.Client(base_url=url, trust_env=False, timeout=300) as c:
        for _ in range(n):
            t = time.perf_counter(); call(); direct.append(time.perf_counter() - t)
            t = time.perf_counter(); r = c.post(endpoint, files={'file': (name, photo)}, data=data); served.append(time.perf_counter() - t)
            r.raise_for_status()
    return direct, served


def bench(url, args, started:str, direct=None, server_pid=None):
    photo = Path(args.image).read_bytes()
    h = lambda: httpx.get(url + '/health', trust_env=False, timeout=30).json()
    info = h()
    print(f"server:   {url} ({started}); model {info['model']} ({info['encoder']}, vocab {info['vocab_size']}, {info['device']})")
    from PIL import Image
    w, hgt = Image.open(args.image).size
    print(f"settings: {args.requests} requests, {args.clients} concurrent clients, one photo a request: "
          f"{Path(args.image).name} ({w} x {hgt}, {len(photo) / 1024:.0f} KB), beam {args.beam}, n_best {args.n_best}; "
          f"{args.warmup} warm-up requests first")
    endpoint, data = '/' + args.endpoint, {} if args.endpoint == 'predict' else {'beam': args.beam, 'n_best': args.n_best}
    run(url, photo, Path(args.image).name, args.warmup, min(args.clients, max(args.warmup, 1)), endpoint, data)
    before, cpu0 = h(), (cpu_seconds(server_pid), cpu_seconds())
    lat, errs, secs = run(url, photo, Path(args.image).name, args.requests, args.clients, endpoint, data)
    after, cpu1 = h(), (cpu_seconds(server_pid), cpu_seconds())
    photos, batches = after['photos'] - before['photos'], after['batches'] - before['batches']
    print(f"results:  {len(lat)} ok, {len(errs)} errors in {secs:.2f} s: {len(lat) / secs:.2f} req/s")
    if lat:
        print(f"latency:  p50 {pct(lat, 50) * 1000:.0f} ms, p95 {pct(lat, 95) * 1000:.0f} ms, max {max(lat) * 1000:.0f} ms")
    if lat and None not in cpu0 + cpu1:
        srv, cli = [(b - a) / len(lat) * 1000 for a, b in zip(cpu0, cpu1)]
        print(f"cpu:      server {srv:.1f} ms, clients {cli:.1f} ms of CPU time a request "
              f"({(cpu1[0] - cpu0[0] + cpu1[1] - cpu0[1]) / secs:.2f} of the {os.cpu_count()} CPUs busy with this benchmark)")
    if batches: print(f"batching: {photos} photos in {batches} model calls, {photos / batches:.1f} photos a call")
    if direct:
        d, sv = alternate(url, direct, photo, Path(args.image).name, args.requests, endpoint, data)
        d50, s50 = pct(d, 50), pct(sv, 50)
        print(f"overhead: {len(d)} direct Captioner.caption calls in this process and {len(sv)} single requests, in turn: "
              f"p50 {d50 * 1000:.1f} ms direct, {s50 * 1000:.1f} ms served; the server adds {(s50 - d50) * 1000:.1f} ms a request at p50")
    for e in errs[:5]: print('error:   ', e)
    return 1 if errs else 0


def setting(arg:str) -> tuple:
    "NAME=VALUE as a keyword for the server: the value as a number when it reads as one."
    k, _, v = arg.partition('=')
    try: return k, float(v) if '.' in v or 'e' in v else int(v)
    except ValueError: return k, v


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--url', help='a running server (default: start one here on 127.0.0.1)')
    p.add_argument('--model', help='model file for the server started here (default: the shipped model)')
    p.add_argument('--tiny', action='store_true', help='serve a tiny random model instead (real encoder, nonsense captions)')
    p.add_argument('-n', '--requests', type=int, default=200)
    p.add_argument('-c', '--clients', type=int, default=8)
    p.add_argument('--warmup', type=int, default=8)
    p.add_argument('--image', help="photo to send (default: matplotlib's grace_hopper.jpg)")
    p.add_argument('--endpoint', choices=['caption', 'predict'], default='caption', help='where to send the photos (/predict: beam 3, n_best 1)')
    p.add_argument('--beam', type=int, default=3)
    p.add_argument('--n-best', type=int, default=1)
    p.add_argument('--set', action='append', default=[], metavar='NAME=VALUE',
                   help='a ServeConfig setting for the server started here, e.g. --set batch_wait_s=0.01 (repeatable)')
    p.add_argument('--overhead', action='store_true', help="then time Captioner.caption in this process and single requests in turn, and print the server's share")
    args = p.parse_args(argv)
    if not args.image:
        from imgcap.cli import sample_photo
        args.image = str(sample_photo())
    load = ', load average %.2f %.2f %.2f' % os.getloadavg() if hasattr(os, 'getloadavg') else ''
    gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else 'no CUDA'
    print(f"machine:  {platform.platform()}, {platform.machine()}, {os.cpu_count()} CPUs{load}; "
          f"Python {platform.python_version()}, torch {torch.__version__} ({torch.get_num_threads()} threads), {gpu}")
    photo, name = Path(args.image).read_bytes(), Path(args.image).name
    if args.endpoint == 'predict' and (args.beam, args.n_best) != (3, 1): p.error('/predict captions with beam 3 and n_best 1 only')
    if args.url: return bench(args.url.rstrip('/'), args, 'given')
    from imgcap.serve import serve_in_background
    with tempfile.TemporaryDirectory() as d:
        model = tiny_model(d) if args.tiny else args.model
        call = captioner(model, photo, name, args.beam, args.n_best) if args.overhead else None
        settings = dict(setting(a) for a in args.set)
        if settings: print(f"server settings: {settings}")
        with serve_in_background(model, **settings) as srv: return bench(srv.url, args, 'started here, run_server', call, srv.pid)


if __name__ == '__main__': sys.exit(main())
