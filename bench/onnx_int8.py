"""Would int8 pay for the encoder in ONNX Runtime? Its static quantisation of Lite0 against its float32, on this machine.

Builds imgcap's float32 ONNX graph of the encoder (`lite_onnx`), quantises it with ONNX Runtime's
static quantisation (QDQ, int8 weights per channel, uint8 activations, calibrated on training
photos), and prints for each setting the photos/s of both networks (one run, batches of 16) and how
far the int8 features are from the float32 ones on other photos: the mean relative error of the
final feature map, and the cosine of the pooled vectors. A probe, not a test: it asserts nothing.

    python bench/onnx_int8.py                   # 128 calibration and 128 test photos from Flickr8k
    python bench/onnx_int8.py --photos 32       # quicker
"""
import argparse, os, tempfile, time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('--photos', type=int, default=128, help='calibration photos, and as many test photos (default 128)')
    a = ap.parse_args(argv)
    import onnxruntime as ort
    from onnxruntime.quantization import CalibrationDataReader, QuantFormat, QuantType, quantize_static
    from onnxruntime.quantization.shape_inference import quant_pre_process
    from imgcap.core import data_dir
    from imgcap.features import FusedLite, ImageEncoder, cpu_flags, lite_onnx
    from imgcap.images import normalize
    enc = ImageEncoder('lite0', precision='fp32', engine='torch')
    names = sorted((data_dir()/'images').glob('*.jpg'))
    calib, test = names[::40][:a.photos], names[1::37][:a.photos]
    batch = lambda ps: normalize(enc.pixels(ps), enc.spec.mean, enc.spec.std).numpy()
    xc, xt = batch(calib), batch(test)
    print(f"CPU flags: {' '.join(f for f in ('avx2', 'avx512f', 'avx512_vnni', 'avx_vnni', 'amx_int8') if f in cpu_flags()) or '-'}; "
          f"torch threads {torch.get_num_threads()}; onnxruntime {ort.__version__}; {len(calib)} calibration, {len(test)} test photos", flush=True)
    d = Path(tempfile.mkdtemp(prefix='imgcap-int8-'))
    (d/'f32.onnx').write_bytes(lite_onnx(FusedLite(enc.backbone.net)))
    quant_pre_process(str(d/'f32.onnx'), str(d/'pre.onnx'))
    opts = ort.SessionOptions(); opts.intra_op_num_threads = torch.get_num_threads()
    session = lambda p: ort.InferenceSession(str(p), opts, providers=['CPUExecutionProvider'])
    run = lambda s: np.concatenate([s.run(None, {'x': xt[i:i + 16]})[0] for i in range(0, len(xt), 16)])
    def rate(s):
        run(s); t = time.perf_counter(); run(s)
        return len(xt) / (time.perf_counter() - t)
    s32 = session(d/'f32.onnx'); ref = run(s32)
    class Photos(CalibrationDataReader):
        def __init__(self): self.it = iter({'x': xc[i:i + 16]} for i in range(0, len(xc), 16))
        def get_next(self): return next(self.it, None)
    for reduce_range in (False, True):  # 7-bit weights avoid the 16-bit saturation of int8 products on CPUs without VNNI
        quantize_static(str(d/'pre.onnx'), str(d/'q.onnx'), Photos(), quant_format=QuantFormat.QDQ, per_channel=True,
                        activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8, reduce_range=reduce_range)
        s8 = session(d/'q.onnx'); out = run(s8)
        cos = F.cosine_similarity(torch.from_numpy(out).mean((2, 3)), torch.from_numpy(ref).mean((2, 3)))
        print(f'int8, reduce_range={reduce_range}: {rate(s8):.1f} photos/s against float32 {rate(s32):.1f}; features '
              f'{np.abs(out - ref).mean() / np.abs(ref).mean():.0%} off per value, pooled cosine mean {cos.mean():.3f} (min {cos.min():.3f})', flush=True)
    for p in d.iterdir(): p.unlink()
    d.rmdir()


if __name__ == '__main__':
    main()
