"""Batch captioning in one process vs on a local Ray cluster (imgcap.ray_data), with the shipped model.

    python bench/ray_bench.py [--photos 1000] [--workers 2] [--shard-size 64] [--batch-size 16]

Prints the machine, then: in-process photos/s (`Captioner.caption`, all torch threads); Ray's start-up
cost (starting a local cluster; a first small job, which starts the actors and loads the model in
each); and Ray photos/s on the same photos (`caption_with_ray`, beam 3, Parquet shards in a temporary
folder). Wall-clock figures depend on what else runs on the machine; the CPU seconds much less (for Ray: this
process and every process of the cluster, sampled twice a second while it runs). Needs the Flickr8k photos
($IMGCAP_DATA or ../shared/data/flickr8k) and `imgcap[ray]`.
"""
import argparse, os, platform, resource, secrets, shutil, sys, tempfile, threading, time
from pathlib import Path


def machine() -> str:
    import torch, ray
    cpu = next((l.split(':', 1)[1].strip() for l in open('/proc/cpuinfo') if l.startswith('model name')), platform.processor()) \
        if os.path.exists('/proc/cpuinfo') else platform.processor()
    load = ' '.join(f'{x:.1f}' for x in os.getloadavg()) if hasattr(os, 'getloadavg') else '?'
    return (f'{cpu}, {os.cpu_count()} cores, load average {load}; Python {platform.python_version()}, torch {torch.__version__} '
            f'({torch.get_num_threads()} threads), ray {ray.__version__}')


def cpu(who=resource.RUSAGE_SELF) -> float:
    r = resource.getrusage(who); return r.ru_utime + r.ru_stime


class ClusterCPU(threading.Thread):
    "CPU seconds of this process's descendants (the Ray cluster: raylet, GCS, agents, actors), sampled while they run."
    def __init__(self): super().__init__(daemon=True); self.seen, self.done = {}, threading.Event()
    def run(self):
        import psutil
        me = psutil.Process()
        while not self.done.is_set():
            for p in me.children(recursive=True):
                try: t = p.cpu_times(); self.seen[p.pid] = t.user + t.system
                except psutil.Error: pass
            self.done.wait(0.5)
    def total(self) -> float: self.done.set(); self.join(); return sum(self.seen.values())


def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--photos', type=int, default=1000)
    p.add_argument('--workers', type=int, default=2)
    p.add_argument('--shard-size', type=int, default=64)
    p.add_argument('--batch-size', type=int, default=16)
    a = p.parse_args()
    from imgcap.core import data_dir
    from imgcap.captioner import Captioner
    from imgcap.ray_data import start_local_ray, caption_with_ray
    import ray
    photos = [str(x) for x in sorted((data_dir()/'images').glob('*.jpg'))[:a.photos]]
    print(machine())
    from imgcap.features import resolve_precision
    print(f"{len(photos)} Flickr8k photos, shipped model, beam 3, batch {a.batch_size}, encoder precision {resolve_precision()} ('auto', in both)")

    t0 = time.time(); cap = Captioner.load(device='cpu'); t1, c1 = time.time(), cpu()
    cap.caption(photos, batch_size=a.batch_size); t2, c2 = time.time(), cpu()
    print(f'in-process: model load {t1 - t0:.1f} s; {len(photos) / (t2 - t1):.1f} photos/s ({t2 - t1:.1f} s; '
          f'{c2 - c1:.1f} CPU s, {(c2 - c1) / len(photos) * 1000:.0f} CPU ms a photo)')
    del cap

    tmp = Path(tempfile.mkdtemp(prefix='imgcap-ray-bench-'))
    os.environ.setdefault('RAY_AUTH_TOKEN', secrets.token_hex(32))  # a token of its own: Ray writes none into ~/.ray
    try:
        c0, cluster = cpu(), ClusterCPU(); cluster.start()
        t0 = time.time(); start_local_ray(num_cpus=os.cpu_count(), _temp_dir=str(tmp/'ray')); t1 = time.time()
        warm = photos[:a.batch_size * a.workers]
        caption_with_ray(warm, tmp/'warm', workers=a.workers, batch_size=a.batch_size, shard_size=a.batch_size, progress=False); t2 = time.time()
        s = caption_with_ray(photos, tmp/'out', workers=a.workers, batch_size=a.batch_size, shard_size=a.shard_size, progress=False)
        t3 = time.time(); ray.shutdown(); t4 = time.time()
        c4 = cpu() + cluster.total()
        print(f'ray start-up: local cluster {t1 - t0:.1f} s; first job of {len(warm)} photos {t2 - t1:.1f} s '
              f'(starts {a.workers} actors, each loads the model); shutdown {t4 - t3:.1f} s')
        print(f"ray, {a.workers} workers: {len(photos) / s['seconds']:.1f} photos/s ({s['seconds']:.1f} s for the job, actors started anew, "
              f"{s['shards']} shards of {a.shard_size}, {s['errors']} errors)")
        print(f'ray from nothing (start, job, shutdown): {t1 - t0 + s["seconds"] + t4 - t3:.1f} s; CPU of everything Ray ran '
              f'(start, both jobs, shutdown): {c4 - c0:.1f} CPU s, {(c4 - c0) / (len(photos) + len(warm)) * 1000:.0f} CPU ms a photo')
    finally:
        if ray.is_initialized(): ray.shutdown()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == '__main__':
    sys.exit(main())
