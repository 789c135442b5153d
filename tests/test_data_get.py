"""`defective-cnn data get` downloading from a server of the test's own on 127.0.0.1, with small fake
archives in torchvision's formats (their checksums patched in), and failing in one line when it cannot."""
import contextlib
import functools
import gzip
import hashlib
import http.server
import io
import pickle
import socket
import struct
import tarfile
import threading
from pathlib import Path

import numpy as np
import pytest

torchvision = pytest.importorskip("torchvision")

from defective_cnn import data as data_module  # noqa: E402
from defective_cnn.cli import main  # noqa: E402
from defective_cnn.data import load_dataset  # noqa: E402

N_TRAIN, N_TEST = 20, 10
CIFAR_BATCH = 4  # images per fake CIFAR-10 batch file (5 train batches, 1 test batch)


def md5(path) -> str:
    return hashlib.md5(Path(path).read_bytes()).hexdigest()


def idx_bytes(array: np.ndarray) -> bytes:
    return bytes([0, 0, 8, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape) + array.astype(np.uint8).tobytes()


def write_idx_archives(folder: Path, seed: int) -> list:
    "The four gzipped IDX files of an MNIST-like dataset; returns torchvision's resources list (name, md5)."
    folder.mkdir(parents=True)
    rng = np.random.default_rng(seed)
    resources = []
    for prefix, n in (("train", N_TRAIN), ("t10k", N_TEST)):
        for kind, array in (("images-idx3-ubyte", rng.integers(0, 256, (n, 28, 28))), ("labels-idx1-ubyte", np.arange(n) % 10)):
            name = f"{prefix}-{kind}.gz"
            with gzip.open(folder / name, "wb") as f:
                f.write(idx_bytes(array))
            resources.append((name, md5(folder / name)))
    return resources


class Py2Pickler(pickle._Pickler):
    "Writes bytes as Python 2 strings, as CIFAR-10's pickles hold them (torchvision reads them as latin-1 text, we as bytes)."
    dispatch = dict(pickle._Pickler.dispatch)

    def save_py2_str(self, obj):
        header = pickle.SHORT_BINSTRING + bytes([len(obj)]) if len(obj) < 256 else pickle.BINSTRING + struct.pack("<i", len(obj))
        self.write(header + obj)
        self.memoize(obj)

    dispatch[bytes] = save_py2_str


def write_cifar_archive(folder: Path) -> dict:
    "cifar-10-python.tar.gz with six small batches and the meta file; returns the CIFAR10 attributes to patch."
    folder.mkdir(parents=True)
    rng = np.random.default_rng(2)
    files = {}
    for i, name in enumerate([f"data_batch_{k}" for k in range(1, 6)] + ["test_batch"]):
        batch = {b"data": rng.integers(0, 256, (CIFAR_BATCH, 3072)).astype(np.uint8), b"labels": [(i + j) % 10 for j in range(CIFAR_BATCH)],
                 b"batch_label": name.encode()}
        files[name] = batch
    files["batches.meta"] = {b"label_names": [c.encode() for c in ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog",
                                                                    "horse", "ship", "truck")]}
    sums = {}
    with tarfile.open(folder / "cifar-10-python.tar.gz", "w:gz") as tar:
        for name, content in files.items():
            buffer = io.BytesIO()
            Py2Pickler(buffer, protocol=2).dump(content)
            raw = buffer.getvalue()
            sums[name] = hashlib.md5(raw).hexdigest()
            info = tarfile.TarInfo(f"cifar-10-batches-py/{name}")
            info.size = len(raw)
            tar.addfile(info, io.BytesIO(raw))
    return dict(filename="cifar-10-python.tar.gz", tgz_md5=md5(folder / "cifar-10-python.tar.gz"),
                train_list=[[f"data_batch_{k}", sums[f"data_batch_{k}"]] for k in range(1, 6)],
                test_list=[["test_batch", sums["test_batch"]]],
                meta={"filename": "batches.meta", "key": "label_names", "md5": sums["batches.meta"]})


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    "A file server on 127.0.0.1 over fake archives: (base URL, {dataset: patches of its torchvision class})."
    served = tmp_path_factory.mktemp("served")
    patches = {"mnist": dict(resources=write_idx_archives(served / "mnist", seed=0)),
               "fashion-mnist": dict(resources=write_idx_archives(served / "fashion", seed=1)),
               "cifar10": write_cifar_archive(served / "cifar")}
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(QuietHandler, directory=str(served)))
    thread = threading.Thread(target=httpd.serve_forever, kwargs=dict(poll_interval=0.1), daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{httpd.server_address[1]}"
    patches["mnist"]["mirrors"] = [f"{base}/mnist/"]
    patches["fashion-mnist"]["mirrors"] = [f"{base}/fashion/"]
    patches["cifar10"]["url"] = f"{base}/cifar/cifar-10-python.tar.gz"
    try:
        yield base, patches
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=10)


@pytest.fixture(autouse=True)
def bounded(monkeypatch):
    "No test waits long on a socket; Debian's Fashion-MNIST folder is out of sight (a download must happen)."
    previous = socket.getdefaulttimeout()
    socket.setdefaulttimeout(20)
    monkeypatch.setattr(data_module, "DEBIAN_FASHION_MNIST", Path("/nonexistent/fashion-mnist"))
    yield
    socket.setdefaulttimeout(previous)


def patch_class(monkeypatch, name, attributes):
    cls = getattr(torchvision.datasets, data_module.DOWNLOADABLE[name])
    for key, value in attributes.items():
        monkeypatch.setattr(cls, key, value)


def run(*argv) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(argv))
    return code, out.getvalue(), err.getvalue()


@pytest.mark.parametrize("name,n_train,n_test,shape", [("mnist", N_TRAIN, N_TEST, (1, 28, 28)),
                                                       ("fashion-mnist", N_TRAIN, N_TEST, (1, 28, 28)),
                                                       ("cifar10", 5 * CIFAR_BATCH, CIFAR_BATCH, (3, 32, 32))])
def test_data_get_downloads_then_finds(server, monkeypatch, tmp_path, name, n_train, n_test, shape):
    _, patches = server
    patch_class(monkeypatch, name, patches[name])
    root = tmp_path / "data"
    code, out, err = run("data", "get", name, "--root", str(root))
    assert code == 0, err
    assert out.splitlines()[-1].startswith(f"{name}: downloaded into {root}")
    assert out.splitlines()[-1].endswith(f"({n_train} train / {n_test} test images)")
    loaded = load_dataset(name, root=root)
    assert (len(loaded.train), len(loaded.test), loaded.image_shape) == (n_train, n_test, shape)
    code, out, _ = run("data", "get", name, "--root", str(root))
    assert code == 0 and out.startswith(f"{name}: already in ")


def test_data_get_refuses_a_wrong_checksum(server, monkeypatch, tmp_path):
    _, patches = server
    resources = [(file, "0" * 32) for file, _ in patches["mnist"]["resources"]]
    patch_class(monkeypatch, "mnist", dict(patches["mnist"], resources=resources))
    code, _, err = run("data", "get", "mnist", "--root", str(tmp_path))
    assert code == 1
    last = err.strip().splitlines()[-1]
    assert last.startswith(f"defective-cnn data get: could not download mnist into {tmp_path} (RuntimeError: ")
    assert "copy its files there" in last


def test_data_get_without_a_server_fails_in_one_line(monkeypatch, tmp_path):
    with socket.socket() as s:  # a port on which nothing listens
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setattr(torchvision.datasets.CIFAR10, "url", f"http://127.0.0.1:{port}/cifar-10-python.tar.gz")
    code, out, err = run("data", "get", "cifar10", "--root", str(tmp_path))
    assert code == 1
    lines = [line for line in err.splitlines() if line.startswith("defective-cnn data get:")]
    assert len(lines) == 1 and "could not download cifar10" in lines[0] and "URLError" in lines[0]
    with pytest.raises(data_module.DatasetNotFoundError, match=f"defective-cnn data get cifar10 --root {tmp_path}"):
        load_dataset("cifar10", root=tmp_path)
